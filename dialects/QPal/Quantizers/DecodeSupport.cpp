//===- DecodeSupport.cpp - Building blocks of code decoding ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "DecodeSupport.h"

#include "qpal/Dialect/QPal/KernelDecode.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <algorithm>
#include <cassert>

using namespace mlir;
using namespace qpal;

Value qpal::detail::emitI64(OpBuilder &builder, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(builder, loc, builder.getI64Type(),
                                      value);
}

/// emitLoadBitsLE through a word view: words [first, last] of the field,
/// each placed at its bit position relative to the field's first bit.
using qpal::detail::emitI64;

static Value emitLoadBitsFromWords(OpBuilder &builder, Location loc,
                                   const CodeWords &words, Value byteOffset,
                                   unsigned bitOffset, unsigned numBits) {
  unsigned wordBits = 8 * words.bytes;
  unsigned first = bitOffset / wordBits;
  unsigned last = (bitOffset + numBits - 1) / wordBits;
  unsigned skip = bitOffset % wordBits;
  Type i64 = builder.getI64Type();
  Value base = arith::DivUIOp::create(
      builder, loc, byteOffset,
      arith::ConstantIndexOp::create(builder, loc, words.bytes));
  Value field;
  for (unsigned word = first; word <= last; ++word) {
    int position =
        static_cast<int>((word - first) * wordBits) - static_cast<int>(skip);
    if (position >= 64)
      break;
    Value loaded;
    if (words.cachedOffset == byteOffset && word < words.cachedWords.size()) {
      loaded = words.cachedWords[word];
    } else {
      Value index = arith::AddIOp::create(
          builder, loc, base,
          arith::ConstantIndexOp::create(builder, loc, word));
      loaded = memref::LoadOp::create(builder, loc, words.words, index);
    }
    Value wide = arith::ExtUIOp::create(builder, loc, i64, loaded);
    if (position > 0)
      wide = arith::ShLIOp::create(builder, loc, wide,
                                   emitI64(builder, loc, position));
    else if (position < 0)
      wide = arith::ShRUIOp::create(builder, loc, wide,
                                    emitI64(builder, loc, -position));
    field = field ? arith::OrIOp::create(builder, loc, field, wide).getResult()
                  : wide;
  }
  if (numBits < 64)
    field = arith::AndIOp::create(
        builder, loc, field,
        emitI64(builder, loc,
                static_cast<int64_t>((uint64_t{1} << numBits) - 1)));
  return field;
}

Value qpal::detail::emitLoadBitsLE(OpBuilder &builder, Location loc,
                                   Value codes, Value byteOffset,
                                   unsigned bitOffset, unsigned numBits,
                                   const CodeWords &words) {
  assert(numBits >= 1 && numBits + bitOffset % 8 <= 64 &&
         "bit field does not fit an i64");
  if (words.words)
    return emitLoadBitsFromWords(builder, loc, words, byteOffset, bitOffset,
                                 numBits);
  unsigned firstByte = bitOffset / 8;
  unsigned lastByte = (bitOffset + numBits - 1) / 8;
  Type i64 = builder.getI64Type();
  Value word;
  for (unsigned byte = firstByte; byte <= lastByte; ++byte) {
    Value index = arith::AddIOp::create(
        builder, loc, byteOffset,
        arith::ConstantIndexOp::create(builder, loc, byte));
    Value loaded = memref::LoadOp::create(builder, loc, codes, index);
    Value wide = arith::ExtUIOp::create(builder, loc, i64, loaded);
    if (byte != firstByte)
      wide = arith::ShLIOp::create(
          builder, loc, wide, emitI64(builder, loc, 8 * (byte - firstByte)));
    word = word ? arith::OrIOp::create(builder, loc, word, wide).getResult()
                : wide;
  }
  if (unsigned shift = bitOffset % 8)
    word = arith::ShRUIOp::create(builder, loc, word,
                                  emitI64(builder, loc, shift));
  if (numBits < 64)
    word = arith::AndIOp::create(
        builder, loc, word,
        emitI64(builder, loc,
                static_cast<int64_t>((uint64_t{1} << numBits) - 1)));
  return word;
}

Value qpal::detail::emitLoadWordStreamCode(
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
      arith::ShLIOp::create(builder, loc, high, emitI64(builder, loc, low)));
}

Value qpal::detail::emitCodebookLoad(OpBuilder &builder, Location loc,
                                     Value codebook, Value index,
                                     unsigned stride, unsigned component) {
  Value position =
      arith::IndexCastUIOp::create(builder, loc, builder.getIndexType(), index);
  if (stride != 1)
    position = arith::MulIOp::create(
        builder, loc, position,
        arith::ConstantIndexOp::create(builder, loc, stride));
  if (component != 0)
    position = arith::AddIOp::create(
        builder, loc, position,
        arith::ConstantIndexOp::create(builder, loc, component));
  return memref::LoadOp::create(builder, loc, codebook, position);
}

Value qpal::detail::emitPackHalves(OpBuilder &builder, Location loc,
                                   Value first, Value second) {
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

Value qpal::detail::emitCodebookPairEntry(OpBuilder &builder, Location loc,
                                          Value codebook, Value entry) {
  Value first = arith::MulIOp::create(
      builder, loc, entry, arith::ConstantIndexOp::create(builder, loc, 2));
  Value second = arith::AddIOp::create(
      builder, loc, first, arith::ConstantIndexOp::create(builder, loc, 1));
  return emitPackHalves(builder, loc,
                        memref::LoadOp::create(builder, loc, codebook, first),
                        memref::LoadOp::create(builder, loc, codebook, second));
}

Value qpal::detail::emitPackedPairLoad(OpBuilder &builder, Location loc,
                                       const PackedPairTable &packedPairs,
                                       Value index) {
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
