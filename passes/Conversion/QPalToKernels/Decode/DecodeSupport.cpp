//===- DecodeSupport.cpp - Building blocks of code decoding ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels/DecodeSupport.h"

#include "qpal/Conversion/QPalToKernels/KernelDecode.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cassert>

using namespace mlir;
using namespace qpal;

Type qpal::shapedLike(Value like, Type element) {
  if (auto vector = dyn_cast<VectorType>(like.getType()))
    return VectorType::get(vector.getShape(), element);
  return element;
}

Value qpal::emitIntConstant(OpBuilder &builder, Location loc, Type type,
                            int64_t value) {
  if (auto vector = dyn_cast<VectorType>(type)) {
    Type element = vector.getElementType();
    Attribute scalar = element.isIndex()
                           ? builder.getIndexAttr(value)
                           : builder.getIntegerAttr(
                                 element, APInt(element.getIntOrFloatBitWidth(),
                                                static_cast<uint64_t>(value),
                                                /*isSigned=*/true));
    return arith::ConstantOp::create(builder, loc,
                                     DenseElementsAttr::get(vector, scalar));
  }
  if (type.isIndex())
    return arith::ConstantIndexOp::create(builder, loc, value);
  return arith::ConstantIntOp::create(builder, loc, type, value);
}

Value qpal::emitI64(OpBuilder &builder, Location loc, int64_t value,
                    Value like) {
  Type i64 = builder.getI64Type();
  return emitIntConstant(builder, loc, like ? shapedLike(like, i64) : i64,
                         value);
}

Value qpal::emitGather(OpBuilder &builder, Location loc, Value memory,
                       Value positions) {
  auto positionType = cast<VectorType>(positions.getType());
  auto memoryType = cast<MemRefType>(memory.getType());
  auto resultType =
      VectorType::get(positionType.getShape(), memoryType.getElementType());
  auto maskType = VectorType::get(positionType.getShape(), builder.getI1Type());
  Value mask = vector::ConstantMaskOp::create(
      builder, loc, maskType, ArrayRef<int64_t>{positionType.getShape()[0]});
  Value passThrough = arith::ConstantOp::create(
      builder, loc, resultType, builder.getZeroAttr(resultType));
  return vector::GatherOp::create(
      builder, loc, resultType, memory,
      ValueRange{arith::ConstantIndexOp::create(builder, loc, 0)}, positions,
      mask, passThrough);
}

/// Loads `memory[position]`: a scalar load, or a gather for a vector of
/// positions.
static Value emitLoad(OpBuilder &builder, Location loc, Value memory,
                      Value position) {
  if (isa<VectorType>(position.getType()))
    return qpal::emitGather(builder, loc, memory, position);
  return memref::LoadOp::create(builder, loc, memory, position);
}

/// Returns `offset + value` for an index offset of either shape.
static Value emitAddIndex(OpBuilder &builder, Location loc, Value offset,
                          int64_t value) {
  if (value == 0)
    return offset;
  return arith::AddIOp::create(
      builder, loc, offset,
      qpal::emitIntConstant(builder, loc, offset.getType(), value));
}

using qpal::emitI64;
using qpal::emitIntConstant;

/// emitLoadBitsLE through a word view: words [first, last] of the field,
/// each placed at its bit position relative to the field's first bit.
static Value emitLoadBitsFromWords(OpBuilder &builder, Location loc,
                                   const CodeWords &words, Value byteOffset,
                                   unsigned bitOffset, unsigned numBits) {
  unsigned wordBits = 8 * words.bytes;
  unsigned first = bitOffset / wordBits;
  unsigned last = (bitOffset + numBits - 1) / wordBits;
  unsigned skip = bitOffset % wordBits;
  Type i64 = qpal::shapedLike(byteOffset, builder.getI64Type());
  const CachedSegment *cached = nullptr;
  for (const CachedSegment &segment : words.cached)
    if (segment.offset == byteOffset)
      cached = &segment;
  Value base;
  Value field;
  for (unsigned word = first; word <= last; ++word) {
    int position =
        static_cast<int>((word - first) * wordBits) - static_cast<int>(skip);
    if (position >= 64)
      break;
    Value loaded;
    if (cached && word < cached->words.size()) {
      loaded = cached->words[word];
    } else {
      if (!base)
        base = arith::DivUIOp::create(
            builder, loc, byteOffset,
            emitIntConstant(builder, loc, byteOffset.getType(), words.bytes));
      loaded = emitLoad(builder, loc, words.words,
                        emitAddIndex(builder, loc, base, word));
    }
    Value wide = arith::ExtUIOp::create(builder, loc, i64, loaded);
    if (position > 0)
      wide = arith::ShLIOp::create(builder, loc, wide,
                                   emitI64(builder, loc, position, wide));
    else if (position < 0)
      wide = arith::ShRUIOp::create(builder, loc, wide,
                                    emitI64(builder, loc, -position, wide));
    field = field ? arith::OrIOp::create(builder, loc, field, wide).getResult()
                  : wide;
  }
  if (numBits < 64)
    field = arith::AndIOp::create(
        builder, loc, field,
        emitI64(builder, loc,
                static_cast<int64_t>((uint64_t{1} << numBits) - 1), field));
  return field;
}

Value qpal::emitLoadBitsLE(OpBuilder &builder, Location loc, Value codes,
                           Value byteOffset, unsigned bitOffset,
                           unsigned numBits, const CodeWords &words) {
  assert(numBits >= 1 && numBits + bitOffset % 8 <= 64 &&
         "bit field does not fit an i64");
  if (words.words)
    return emitLoadBitsFromWords(builder, loc, words, byteOffset, bitOffset,
                                 numBits);
  unsigned firstByte = bitOffset / 8;
  unsigned lastByte = (bitOffset + numBits - 1) / 8;
  Type i64 = shapedLike(byteOffset, builder.getI64Type());
  Value word;
  for (unsigned byte = firstByte; byte <= lastByte; ++byte) {
    Value loaded = emitLoad(builder, loc, codes,
                            emitAddIndex(builder, loc, byteOffset, byte));
    Value wide = arith::ExtUIOp::create(builder, loc, i64, loaded);
    if (byte != firstByte)
      wide = arith::ShLIOp::create(
          builder, loc, wide,
          emitI64(builder, loc, 8 * (byte - firstByte), wide));
    word = word ? arith::OrIOp::create(builder, loc, word, wide).getResult()
                : wide;
  }
  if (unsigned shift = bitOffset % 8)
    word = arith::ShRUIOp::create(builder, loc, word,
                                  emitI64(builder, loc, shift, word));
  if (numBits < 64)
    word = arith::AndIOp::create(
        builder, loc, word,
        emitI64(builder, loc,
                static_cast<int64_t>((uint64_t{1} << numBits) - 1), word));
  return word;
}

Value qpal::emitLoadWordStreamCode(
    OpBuilder &builder, Location loc, Value codes,
    function_ref<Value(OpBuilder &, Location, unsigned)> wordOffset,
    unsigned code, unsigned bits, const CodeWords &words) {
  unsigned start = code * bits;
  unsigned word = start / 32, offset = start % 32;
  unsigned low = std::min(bits, 32 - offset);
  Value value = emitLoadBitsLE(
      builder, loc, codes, wordOffset(builder, loc, word), offset, low, words);
  if (low == bits)
    return value;
  Value high =
      emitLoadBitsLE(builder, loc, codes, wordOffset(builder, loc, word + 1), 0,
                     bits - low, words);
  return arith::OrIOp::create(
      builder, loc, value,
      arith::ShLIOp::create(builder, loc, high,
                            emitI64(builder, loc, low, high)));
}

/// Returns `index * stride + component` as a position into a 1-D memref:
/// an index, or for a vector of lanes a vector of i32 (gathers take 32-bit
/// offsets; codebooks and pair tables are far smaller than 2^31).
static Value emitTablePosition(OpBuilder &builder, Location loc, Value index,
                               unsigned stride, unsigned component) {
  Value position;
  if (auto vector = dyn_cast<VectorType>(index.getType())) {
    auto i32 = VectorType::get(vector.getShape(), builder.getI32Type());
    unsigned width = vector.getElementType().isIndex()
                         ? 64
                         : vector.getElementType().getIntOrFloatBitWidth();
    if (vector.getElementType().isIndex())
      position = arith::IndexCastUIOp::create(builder, loc, i32, index);
    else if (width > 32)
      position = arith::TruncIOp::create(builder, loc, i32, index);
    else if (width < 32)
      position = arith::ExtUIOp::create(builder, loc, i32, index);
    else
      position = index;
  } else {
    position = arith::IndexCastUIOp::create(builder, loc,
                                            builder.getIndexType(), index);
  }
  if (stride != 1)
    position = arith::MulIOp::create(
        builder, loc, position,
        emitIntConstant(builder, loc, position.getType(), stride));
  if (component != 0)
    position = arith::AddIOp::create(
        builder, loc, position,
        emitIntConstant(builder, loc, position.getType(), component));
  return position;
}

Value qpal::emitCodebookLoad(OpBuilder &builder, Location loc, Value codebook,
                             Value index, unsigned stride, unsigned component) {
  return emitLoad(builder, loc, codebook,
                  emitTablePosition(builder, loc, index, stride, component));
}

Value qpal::emitCodebookLoad(OpBuilder &builder, Location loc, Value codebook,
                             CodebookLookup lookup, Value index,
                             unsigned stride, unsigned component) {
  if (lookup && isa<VectorType>(index.getType()))
    if (Value value = lookup(builder, loc, index, stride, component))
      return value;
  return emitCodebookLoad(builder, loc, codebook, index, stride, component);
}

Value qpal::emitPackHalves(OpBuilder &builder, Location loc, Value first,
                           Value second) {
  Type i32 = builder.getI32Type();
  auto bits = [&](Value value) -> Value {
    Value half =
        arith::TruncFOp::create(builder, loc, builder.getF16Type(), value);
    Value raw =
        arith::BitcastOp::create(builder, loc, builder.getI16Type(), half);
    return arith::ExtUIOp::create(builder, loc, i32, raw);
  };
  Value high = arith::ShLIOp::create(
      builder, loc, bits(second),
      arith::ConstantIntOp::create(builder, loc, i32, 16));
  return arith::OrIOp::create(builder, loc, bits(first), high);
}

Value qpal::emitCodebookPairEntry(OpBuilder &builder, Location loc,
                                  Value codebook, Value entry) {
  Value first = arith::MulIOp::create(
      builder, loc, entry, arith::ConstantIndexOp::create(builder, loc, 2));
  Value second = arith::AddIOp::create(
      builder, loc, first, arith::ConstantIndexOp::create(builder, loc, 1));
  return emitPackHalves(builder, loc,
                        memref::LoadOp::create(builder, loc, codebook, first),
                        memref::LoadOp::create(builder, loc, codebook, second));
}

Value qpal::emitScalarPairEntry(OpBuilder &builder, Location loc,
                                Value codebook, Value entry, unsigned bits) {
  Value first = arith::AndIOp::create(
      builder, loc, entry,
      arith::ConstantIndexOp::create(builder, loc, (1 << bits) - 1));
  Value second = arith::ShRUIOp::create(
      builder, loc, entry, arith::ConstantIndexOp::create(builder, loc, bits));
  return emitPackHalves(builder, loc,
                        memref::LoadOp::create(builder, loc, codebook, first),
                        memref::LoadOp::create(builder, loc, codebook, second));
}

Value qpal::emitPackedPairLoad(OpBuilder &builder, Location loc,
                               const PackedPairTable &packedPairs,
                               Value index) {
  if (isa<VectorType>(index.getType())) {
    assert(packedPairs.replicas == 1 && "a lane vector reads one copy");
    return emitLoad(builder, loc, packedPairs.table,
                    emitTablePosition(builder, loc, index, 1, 0));
  }
  Value position =
      arith::IndexCastUIOp::create(builder, loc, builder.getIndexType(), index);
  if (packedPairs.replicas > 1)
    position = arith::AddIOp::create(
        builder, loc,
        arith::MulIOp::create(
            builder, loc, position,
            arith::ConstantIndexOp::create(builder, loc, packedPairs.replicas)),
        packedPairs.replica);
  return memref::LoadOp::create(builder, loc, packedPairs.table, position);
}

//===----------------------------------------------------------------------===//
// Fragment positions (KernelDecode.h)
//===----------------------------------------------------------------------===//

Value qpal::emitPairRow(OpBuilder &builder, Location loc, Value lane,
                        unsigned tile, unsigned reg) {
  // row = 16 * i1 + 8 * (j & 1) + lane / 4, with i1 = q & 1.
  Value quad = arith::ShRUIOp::create(
      builder, loc, lane, arith::ConstantIndexOp::create(builder, loc, 2));
  unsigned base = 16 * (tile & 1) + 8 * (reg & 1);
  if (base == 0)
    return quad;
  return arith::AddIOp::create(
      builder, loc, quad, arith::ConstantIndexOp::create(builder, loc, base));
}

Value qpal::emitPairColumn(OpBuilder &builder, Location loc, Value lane,
                           unsigned tile, unsigned reg) {
  // col = 16 * j1 + 8 * (j >> 1) + 2 * (lane % 4), with j1 = q >> 1.
  Value inQuad = arith::AndIOp::create(
      builder, loc, lane, arith::ConstantIndexOp::create(builder, loc, 3));
  Value twice = arith::ShLIOp::create(
      builder, loc, inQuad, arith::ConstantIndexOp::create(builder, loc, 1));
  unsigned base = 16 * (tile >> 1) + 8 * (reg >> 1);
  if (base == 0)
    return twice;
  return arith::AddIOp::create(
      builder, loc, twice, arith::ConstantIndexOp::create(builder, loc, base));
}
