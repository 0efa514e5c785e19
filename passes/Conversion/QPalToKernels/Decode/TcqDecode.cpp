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
#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"
#include "qpal/Conversion/QPalToKernels/DecodeSupport.h"

#include "qpal/Quant/ComputedTrellis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

/// Places a `width`-bit chunk so that its MSB lands on bit
/// `windowBits - 1 - start` of the window's integer type (bits shifted past
/// bit 0 are dropped).
static Value placeChunk(OpBuilder &builder, Location loc, Value chunk,
                        unsigned start, unsigned width, unsigned windowBits) {
  int shift = static_cast<int>(windowBits) - static_cast<int>(start) -
              static_cast<int>(width);
  if (shift > 0)
    return arith::ShLIOp::create(
        builder, loc, chunk,
        emitIntConstant(builder, loc, chunk.getType(), shift));
  if (shift < 0)
    return arith::ShRUIOp::create(
        builder, loc, chunk,
        emitIntConstant(builder, loc, chunk.getType(), -shift));
  return chunk;
}

/// The two weights of a computed code's step from the i32 `state`
/// (ComputedTrellis.h), as f32 values equal to lib/Quant's fp16-precision
/// table: integer multiply-adds, masks and shifts, fp16 conversions, no
/// loads.
static std::pair<Value, Value> emitComputedPair(OpBuilder &builder,
                                                Location loc, TrellisCode code,
                                                Value state) {
  Type i32 = state.getType();
  auto constant = [&](uint32_t value) {
    return emitIntConstant(builder, loc, i32, static_cast<int32_t>(value));
  };
  auto mulAdd = [&](Value x, uint32_t mul, uint32_t add) -> Value {
    return arith::AddIOp::create(
        builder, loc, arith::MulIOp::create(builder, loc, x, constant(mul)),
        constant(add));
  };
  Type f32 = shapedLike(state, builder.getF32Type());
  if (code == TrellisCode::OneMad) {
    // Byte sums: adjacent bytes into 16-bit lanes, then the two lanes.
    auto weight = [&](Value x) -> Value {
      Value byteMask = constant(0x00FF00FF);
      Value pairs = arith::AddIOp::create(
          builder, loc, arith::AndIOp::create(builder, loc, x, byteMask),
          arith::AndIOp::create(
              builder, loc,
              arith::ShRUIOp::create(builder, loc, x, constant(8)), byteMask));
      Value sum = arith::AddIOp::create(
          builder, loc,
          arith::AndIOp::create(builder, loc, pairs, constant(0xFFFF)),
          arith::ShRUIOp::create(builder, loc, pairs, constant(16)));
      Value centered =
          arith::SubIOp::create(builder, loc, sum, constant(kOneMadBias));
      TypedAttr scaleAttr = builder.getF32FloatAttr(kOneMadScale);
      if (auto vector = dyn_cast<VectorType>(f32))
        scaleAttr = DenseElementsAttr::get(vector, kOneMadScale);
      Value scale = arith::ConstantOp::create(builder, loc, scaleAttr);
      return arith::MulFOp::create(
          builder, loc, arith::SIToFPOp::create(builder, loc, f32, centered),
          scale);
    };
    Value x1 = mulAdd(state, kOneMadConstants.mul1, kOneMadConstants.add1);
    Value x2 = mulAdd(x1, kOneMadConstants.mul2, kOneMadConstants.add2);
    return {weight(x1), weight(x2)};
  }
  Type i16 = shapedLike(state, builder.getI16Type());
  Type f16 = shapedLike(state, builder.getF16Type());
  auto half = [&](Value bits) -> Value {
    Value narrow = arith::TruncIOp::create(builder, loc, i16, bits);
    Value bits16 = arith::BitcastOp::create(builder, loc, f16, narrow);
    return arith::ExtFOp::create(builder, loc, f32, bits16);
  };
  auto weight = [&](Value x) -> Value {
    x = arith::XOrIOp::create(
        builder, loc,
        arith::AndIOp::create(builder, loc, x, constant(kThreeInstMask)),
        constant(kThreeInstXor));
    Value sum = arith::AddFOp::create(
        builder, loc,
        half(arith::ShRUIOp::create(builder, loc, x, constant(16))), half(x));
    // The kernels' precision: the sum rounded to fp16.
    Value rounded = arith::TruncFOp::create(builder, loc, f16, sum);
    return arith::ExtFOp::create(builder, loc, f32, rounded);
  };
  return {
      weight(mulAdd(state, kThreeInstConstants.mul1, kThreeInstConstants.add1)),
      weight(
          mulAdd(state, kThreeInstConstants.mul2, kThreeInstConstants.add2))};
}

void qpal::detail::emitTcqLaneDecode(OpBuilder &builder, Location loc,
                                     const LaneDecodeArgs &args, unsigned kv,
                                     unsigned tlutBits, TrellisCode code,
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
  // Where the last step's window ends within 32 bits (KV <= 5), the window
  // is an i32: half the registers of an i64 on vector targets.
  const bool narrow = needed <= 32;
  const unsigned windowBits = narrow ? 32 : 64;
  Type windowType = narrow ? i32 : shapedLike(like, builder.getI64Type());
  Value stateMask = emitIntConstant(builder, loc, windowType, 0xFFFF);
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
      if (start >= windowBits)
        break;
      Value chunk = emitLoadBitsLE(builder, loc, args.codes, segments[delta],
                                   tile * chunkBits, chunkBits, args.codeWords);
      if (narrow) // 4 * KV <= 20 bits
        chunk = arith::TruncIOp::create(builder, loc, windowType, chunk);
      Value placed =
          placeChunk(builder, loc, chunk, start, chunkBits, windowBits);
      window =
          window
              ? arith::OrIOp::create(builder, loc, window, placed).getResult()
              : placed;
    }
    for (unsigned reg = 0; reg < 4; ++reg) {
      Value state = arith::AndIOp::create(
          builder, loc,
          arith::ShRUIOp::create(builder, loc, window,
                                 emitIntConstant(builder, loc, windowType,
                                                 windowBits - 16 - reg * kv)),
          stateMask);
      if (!narrow)
        state = arith::TruncIOp::create(builder, loc, i32, state);
      if (code != TrellisCode::Lut) {
        auto [first, second] = emitComputedPair(builder, loc, code, state);
        pairs.push_back({tile, reg, first, second});
        continue;
      }
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
                      tcq.getCode(), pairs);
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
    emitTcqLaneDecode(builder, loc, args, kv, split.getTlutBits(),
                      split.getCode(), pairs);
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
