//===- SqDecode.cpp - The decode of #qpal.sq ------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Scalar codes of b bits, looked up in the 2^b-level codebook: in the
// tensor-core layout, 8 codes per tile and lane (a pair per mma register);
// in the SIMT layout, 32 codes per lane and row chunk.
//
//===----------------------------------------------------------------------===//

#include "DecodeModels.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

namespace {

struct SqLaneDecode
    : LaneDecodeAttrInterface::ExternalModel<SqLaneDecode, SqAttr> {
  LogicalResult emitLaneDecode(Attribute attr, OpBuilder &builder, Location loc,
                               const LaneDecodeArgs &args,
                               SmallVectorImpl<DecodedPair> &pairs) const {
    auto sq = cast<SqAttr>(attr);
    if (failed(checkLayout(sq, loc, KernelKind::TensorCore)))
      return failure();
    // Tile q's chunk holds the lane's 8 codes in fragment order, LSB-first:
    // codes 2j and 2j + 1 are the pair of register j.
    unsigned bits = sq.getBits();
    Value segment = args.segmentOffset(builder, loc, 0);
    for (unsigned tile = 0; tile < 4; ++tile)
      for (unsigned reg = 0; reg < 4; ++reg) {
        if (args.packedPairs.table) {
          // The pair's two codes, read as one 2b-bit index of the pair table.
          Value index = emitLoadBitsLE(builder, loc, args.codes, segment,
                                       tile * 8 * bits + 2 * reg * bits,
                                       2 * bits, args.codeWords);
          pairs.push_back(
              {tile, reg, Value(), Value(),
               emitPackedPairLoad(builder, loc, args.packedPairs, index)});
          continue;
        }
        Value values[2];
        for (unsigned half = 0; half < 2; ++half) {
          unsigned code = 2 * reg + half;
          Value index = emitLoadBitsLE(builder, loc, args.codes, segment,
                                       tile * 8 * bits + code * bits, bits,
                                       args.codeWords);
          values[half] = emitCodebookLoad(builder, loc, args, index, 1, 0);
        }
        pairs.push_back({tile, reg, values[0], values[1]});
      }
    return success();
  }
};

struct SqSimtDecode
    : SimtDecodeAttrInterface::ExternalModel<SqSimtDecode, SqAttr> {
  LogicalResult emitSimtDecode(Attribute attr, OpBuilder &builder, Location loc,
                               const SimtDecodeArgs &args,
                               SmallVectorImpl<DecodedSimtCode> &codes) const {
    auto sq = cast<SqAttr>(attr);
    if (failed(checkLayout(sq, loc, KernelKind::Simt)))
      return failure();
    // Code 8j + i of the lane sits at column 8*E*j + 8*w + i, j = 0..3,
    // i = 0..7 (quantizers.md section 6.6).
    for (unsigned code = 0; code < kSimtCodesPerLane; ++code) {
      Value index =
          emitLoadWordStreamCode(builder, loc, args.codes, args.wordOffset,
                                 code, sq.getBits(), args.codeWords);
      codes.push_back({code / 8, code % 8,
                       emitCodebookLoad(builder, loc, args, index, 1, 0),
                       Value()});
    }
    return success();
  }
};

} // namespace

void qpal::detail::attachSqDecodeModels(MLIRContext *context) {
  SqAttr::attachInterface<SqLaneDecode, ScalarPairTable<SqAttr>, SqSimtDecode>(
      *context);
}
