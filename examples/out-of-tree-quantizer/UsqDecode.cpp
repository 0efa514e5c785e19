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
#include "qpal/Conversion/QPalToKernels/PairTableModels.h"

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

} // namespace

void usq::attachUsqDecodeModels(MLIRContext *context) {
  // The pair table of a scalar codebook is qpal's (PairTableModels.h).
  UniformAttr::attachInterface<UniformLaneDecode, ScalarPairTable<UniformAttr>>(
      *context);
}
