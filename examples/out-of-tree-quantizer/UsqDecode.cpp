//===- UsqDecode.cpp - The decode of #usq.uniform -------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The models of qpal's decode interfaces (DecodeInterfaces.td) that the
// kernel lowering calls. The layout is SQ's tensor-core one: per supertile
// and lane, 8 codes per tile, LSB-first, codes 2j and 2j + 1 the pair of
// mma register j. One decode serves the GPU kernels (one lane, scalars) and
// the CPU kernels (the 32 lanes of a supertile as vectors): the building
// blocks of DecodeSupport.h take either.
//
//===----------------------------------------------------------------------===//

#include "Usq.h"

#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"
#include "qpal/Conversion/QPalToKernels/DecodeSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace qpal;

namespace {

struct UniformLaneDecode
    : LaneDecodeAttrInterface::ExternalModel<UniformLaneDecode,
                                             usq::UniformAttr> {
  LogicalResult emitLaneDecode(Attribute attr, OpBuilder &builder, Location loc,
                               const LaneDecodeArgs &args,
                               SmallVectorImpl<DecodedPair> &pairs) const {
    unsigned bits = cast<usq::UniformAttr>(attr).getBits();
    Value segment = args.segmentOffset(builder, loc, 0);
    for (unsigned tile = 0; tile < 4; ++tile)
      for (unsigned reg = 0; reg < 4; ++reg) {
        unsigned first = tile * 8 * bits + 2 * reg * bits;
        if (args.packedPairs.table) {
          // The pair's two codes, read as one 2b-bit index of the table.
          Value index = emitLoadBitsLE(builder, loc, args.codes, segment, first,
                                       2 * bits, args.codeWords);
          pairs.push_back(
              {tile, reg, Value(), Value(),
               emitPackedPairLoad(builder, loc, args.packedPairs, index)});
          continue;
        }
        Value values[2];
        for (unsigned half = 0; half < 2; ++half) {
          Value index =
              emitLoadBitsLE(builder, loc, args.codes, segment,
                             first + half * bits, bits, args.codeWords);
          values[half] = emitCodebookLoad(builder, loc, args, index, 1, 0);
        }
        pairs.push_back({tile, reg, values[0], values[1]});
      }
    return success();
  }
};

/// Entry e of the pair table packs levels e mod 2^b (first) and e / 2^b
/// (second) as two fp16 halves.
struct UniformPairTable
    : PackedPairTableAttrInterface::ExternalModel<UniformPairTable,
                                                  usq::UniformAttr> {
  Value emitPackedPairEntry(Attribute attr, OpBuilder &builder, Location loc,
                            Value codebook, Value entry) const {
    unsigned bits = cast<usq::UniformAttr>(attr).getBits();
    Value first = arith::AndIOp::create(
        builder, loc, entry,
        arith::ConstantIndexOp::create(builder, loc, (1 << bits) - 1));
    Value second = arith::ShRUIOp::create(
        builder, loc, entry,
        arith::ConstantIndexOp::create(builder, loc, bits));
    return emitPackHalves(
        builder, loc, memref::LoadOp::create(builder, loc, codebook, first),
        memref::LoadOp::create(builder, loc, codebook, second));
  }
};

} // namespace

void usq::attachUsqDecodeModels(MLIRContext *context) {
  UniformAttr::attachInterface<UniformLaneDecode, UniformPairTable>(*context);
}
