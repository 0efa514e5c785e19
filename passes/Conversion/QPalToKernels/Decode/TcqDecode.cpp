//===- TcqDecode.cpp - The decode of #qpal.tcq and #qpal.tcq_split --------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Lane w of a supertile owns, for each tile q, the 4*KV stream bits at which
// its 4 steps start (chunk C_q = bits [4KV*w, 4KV*(w+1)) of the tile's
// circular stream, first bit as MSB), stored as bits [4KV*q, 4KV*(q+1)) of
// its little-endian 16*KV-bit segment. The 16-bit state of step 4w + j is the
// window at bit j*KV of C_q, continued into the chunks of lanes w+1 and w+2
// (mod 32: tail-biting). The state hashes to a codeword of the tlut
// (`quantlut_sym`): h = s*(s+1) mod 2^16, index = bits [15-T, 15) of h, and
// bit 15 of h flips the sign of the first element.
//
//===----------------------------------------------------------------------===//

#include "TcqDecode.h"

#include "DecodeModels.h"
#include "DecodeSupport.h"
#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

/// Places a `width`-bit chunk so that its MSB lands on bit `63 - start` of
/// an i64 (bits shifted past bit 0 are dropped).
static Value placeChunk(OpBuilder &builder, Location loc, Value chunk,
                        unsigned start, unsigned width) {
  int shift = 64 - static_cast<int>(start) - static_cast<int>(width);
  if (shift > 0)
    return arith::ShLIOp::create(builder, loc, chunk,
                                 emitI64(builder, loc, shift, chunk));
  if (shift < 0)
    return arith::ShRUIOp::create(builder, loc, chunk,
                                  emitI64(builder, loc, -shift, chunk));
  return chunk;
}

void qpal::detail::emitTcqLaneDecode(OpBuilder &builder, Location loc,
                                     const LaneDecodeArgs &args, unsigned kv,
                                     unsigned tlutBits,
                                     SmallVectorImpl<DecodedPair> &pairs) {
  unsigned chunkBits = 4 * kv;
  // Bits needed past the start of the lane's own chunk: the last step's
  // window ends at 3*KV + 16; lanes w+1 and w+2 supply what C_q lacks.
  unsigned needed = 3 * kv + 16;
  unsigned lanesNeeded = (needed + chunkBits - 1) / chunkBits;
  SmallVector<Value> segments;
  for (unsigned delta = 0; delta < lanesNeeded; ++delta)
    segments.push_back(args.segmentOffset(builder, loc, delta));

  // The window is assembled in i64; the state and its hash need 16 bits, so
  // they are computed in i32 (a 64-bit multiply is several instructions on
  // GPUs; the result mod 2^16 is the same). Values are scalars of one lane
  // or vectors of lanes, shaped like the segment offsets.
  Value like = segments.front();
  Type i32 = shapedLike(like, builder.getI32Type());
  auto emitI32 = [&](int64_t value) -> Value {
    return emitIntConstant(builder, loc, i32, value);
  };
  Value stateMask = emitI64(builder, loc, 0xFFFF, like);
  Value hashMask = emitI32(0xFFFF);
  Value one = emitI32(1);
  Value indexShift = emitI32(15 - tlutBits);
  Value indexMask = emitI32((1 << tlutBits) - 1);
  Value signBit = emitI32(0x8000);
  Value zero = emitI32(0);

  for (unsigned tile = 0; tile < 4; ++tile) {
    Value window;
    for (unsigned delta = 0; delta < lanesNeeded; ++delta) {
      unsigned start = delta * chunkBits;
      if (start >= 64)
        break;
      Value chunk = emitLoadBitsLE(builder, loc, args.codes, segments[delta],
                                   tile * chunkBits, chunkBits, args.codeWords);
      Value placed = placeChunk(builder, loc, chunk, start, chunkBits);
      window =
          window
              ? arith::OrIOp::create(builder, loc, window, placed).getResult()
              : placed;
    }
    for (unsigned reg = 0; reg < 4; ++reg) {
      Value state = arith::TruncIOp::create(
          builder, loc, i32,
          arith::AndIOp::create(builder, loc,
                                arith::ShRUIOp::create(
                                    builder, loc, window,
                                    emitI64(builder, loc, 48 - reg * kv, like)),
                                stateMask));
      Value hash = arith::AndIOp::create(
          builder, loc,
          arith::MulIOp::create(
              builder, loc, state,
              arith::AddIOp::create(builder, loc, state, one)),
          hashMask);
      Value index = arith::AndIOp::create(
          builder, loc, arith::ShRUIOp::create(builder, loc, hash, indexShift),
          indexMask);
      Value negate = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::ne,
          arith::AndIOp::create(builder, loc, hash, signBit), zero);
      if (args.packedPairs.table) {
        // Flip the sign bit of the low (first) half.
        Value packed =
            emitPackedPairLoad(builder, loc, args.packedPairs, index);
        Value flipped =
            arith::XOrIOp::create(builder, loc, packed, emitI32(0x8000));
        packed = arith::SelectOp::create(builder, loc, negate, flipped, packed);
        pairs.push_back({tile, reg, Value(), Value(), packed});
        continue;
      }
      Value first = emitCodebookLoad(builder, loc, args, index, 2, 0);
      Value second = emitCodebookLoad(builder, loc, args, index, 2, 1);
      first = arith::SelectOp::create(
          builder, loc, negate, arith::NegFOp::create(builder, loc, first),
          first);
      pairs.push_back({tile, reg, first, second});
    }
  }
}

//===----------------------------------------------------------------------===//
// External models
//===----------------------------------------------------------------------===//

namespace {

/// The lane decode of #qpal.tcq: one trellis of KV bits per step.
struct TcqLaneDecode
    : LaneDecodeAttrInterface::ExternalModel<TcqLaneDecode, TcqAttr> {
  LogicalResult emitLaneDecode(Attribute attr, OpBuilder &builder, Location loc,
                               const LaneDecodeArgs &args,
                               SmallVectorImpl<DecodedPair> &pairs) const {
    auto tcq = cast<TcqAttr>(attr);
    emitTcqLaneDecode(builder, loc, args, tcq.getKv(), tcq.getTlutBits(),
                      pairs);
    return success();
  }
};

/// The lane decode of #qpal.tcq_split: each column half its own trellis.
struct TcqSplitLaneDecode
    : LaneDecodeAttrInterface::ExternalModel<TcqSplitLaneDecode, TcqSplitAttr> {
  LogicalResult emitLaneDecode(Attribute attr, OpBuilder &builder, Location loc,
                               const LaneDecodeArgs &args,
                               SmallVectorImpl<DecodedPair> &pairs) const {
    auto split = cast<TcqSplitAttr>(attr);
    unsigned kv = args.columnPart == 0 ? split.getKv1() : split.getKv2();
    emitTcqLaneDecode(builder, loc, args, kv, split.getTlutBits(), pairs);
    return success();
  }
};

} // namespace

void qpal::detail::attachTcqDecodeModels(MLIRContext *context) {
  TcqAttr::attachInterface<TcqLaneDecode, CodewordPairTable<TcqAttr>>(*context);
}

void qpal::detail::attachTcqSplitDecodeModels(MLIRContext *context) {
  TcqSplitAttr::attachInterface<TcqSplitLaneDecode,
                                CodewordPairTable<TcqSplitAttr>>(*context);
}
