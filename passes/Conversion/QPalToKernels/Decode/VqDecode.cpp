//===- VqDecode.cpp - The decode of #qpal.vq ------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Two-dimensional codes of b bits, looked up in the 2^b-entry codebook: in
// the tensor-core layout, 4 codes per tile and lane; in the SIMT layout, 32
// codes per lane and row chunk.
//
//===----------------------------------------------------------------------===//

#include "DecodeModels.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

namespace {

struct VqLaneDecode
    : LaneDecodeAttrInterface::ExternalModel<VqLaneDecode, VqAttr> {
  LogicalResult emitLaneDecode(Attribute attr, OpBuilder &builder, Location loc,
                               const LaneDecodeArgs &args,
                               SmallVectorImpl<DecodedPair> &pairs) const {
    auto vq = cast<VqAttr>(attr);
    if (failed(checkLayout(vq, loc, KernelKind::TensorCore)))
      return failure();
    // Tile q's chunk holds the lane's 4 codes (register j = code i),
    // LSB-first: code i at bits [q*4b + i*b, +b) of the lane's segment.
    unsigned bits = vq.getBits();
    Value segment = args.segmentOffset(builder, loc, 0);
    for (unsigned tile = 0; tile < 4; ++tile)
      for (unsigned code = 0; code < 4; ++code) {
        Value index =
            emitLoadBitsLE(builder, loc, args.codes, segment,
                           tile * 4 * bits + code * bits, bits, args.codeWords);
        if (args.packedPairs.table) {
          pairs.push_back(
              {tile, code, Value(), Value(),
               emitPackedPairLoad(builder, loc, args.packedPairs, index)});
          continue;
        }
        pairs.push_back({tile, code,
                         emitCodebookLoad(builder, loc, args, index, 2, 0),
                         emitCodebookLoad(builder, loc, args, index, 2, 1)});
      }
    return success();
  }
};

struct VqSimtDecode
    : SimtDecodeAttrInterface::ExternalModel<VqSimtDecode, VqAttr> {
  LogicalResult emitSimtDecode(Attribute attr, OpBuilder &builder, Location loc,
                               const SimtDecodeArgs &args,
                               SmallVectorImpl<DecodedSimtCode> &codes) const {
    auto vq = cast<VqAttr>(attr);
    if (failed(checkLayout(vq, loc, KernelKind::Simt)))
      return failure();
    // Vector 4g + i0/2 of the lane covers columns 8*E*g + 8*w + i0 (+1),
    // g = 0..7, i0 = 0, 2, 4, 6 (quantizers.md section 6.6).
    for (unsigned code = 0; code < kSimtCodesPerLane; ++code) {
      Value index =
          emitLoadWordStreamCode(builder, loc, args.codes, args.wordOffset,
                                 code, vq.getBits(), args.codeWords);
      codes.push_back({code / 4, 2 * (code % 4),
                       emitCodebookLoad(builder, loc, args, index, 2, 0),
                       emitCodebookLoad(builder, loc, args, index, 2, 1)});
    }
    return success();
  }
};

} // namespace

void qpal::detail::attachVqDecodeModels(MLIRContext *context) {
  VqAttr::attachInterface<VqLaneDecode, CodewordPairTable<VqAttr>,
                          VqSimtDecode>(*context);
}
