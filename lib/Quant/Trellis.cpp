//===- Trellis.cpp - Bitshift-trellis TCQ decoding and packing ------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Trellis.h"

#include "Diagnostics.h"
#include "qpal/Quant/ComputedTrellis.h"
#include "qpal/Quant/TileLayout.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>

using namespace qpal;

using detail::makeError;

//===----------------------------------------------------------------------===//
// State table
//===----------------------------------------------------------------------===//

TcqStateTable
TcqStateTable::build(unsigned bits,
                     llvm::function_ref<void(uint32_t, float (&)[4])> value) {
  TcqStateTable table;
  table.bits = bits;
  float *raw = static_cast<float *>(
      std::aligned_alloc(64, 4 * kTcqStates * sizeof(float)));
  table.storage = std::shared_ptr<float>(raw, [](float *p) { std::free(p); });
  double sum = 0;
  for (uint32_t state = 0; state < kTcqStates; ++state) {
    float values[4];
    value(state, values);
    for (int i = 0; i < 4; ++i)
      raw[i * kTcqStates + state] = values[i];
    double a = values[0], b = values[1];
    sum += a * a + b * b;
  }
  table.rmsValue = std::sqrt(sum / (2.0 * kTcqStates));
  return table;
}

llvm::Expected<TcqStateTable> TcqStateTable::create(const Codebook &tlut) {
  if (tlut.dim() != 2 || tlut.bits() < 1 || tlut.bits() > 15)
    return makeError(llvm::formatv(
        "expects a TCQ tlut of 2^1..2^15 two-dimensional codewords, got 2^{0} "
        "x {1}",
        tlut.bits(), tlut.dim()));
  unsigned bits = tlut.bits();
  return build(bits, [&](uint32_t state, float(&values)[4]) {
    uint32_t index = tcqCodewordIndex(state, bits);
    float sign = tcqSignFlip(state) ? -1.0f : 1.0f;
    for (int precision = 0; precision < 2; ++precision) {
      auto which =
          precision ? CodebookPrecision::Fp16 : CodebookPrecision::Fp32;
      values[2 * precision] = sign * tlut.at(index, 0, which);
      values[2 * precision + 1] = tlut.at(index, 1, which);
    }
  });
}

llvm::Expected<const TcqStateTable *>
TcqStateTable::shipped(unsigned tlutBits) {
  static std::mutex mutex;
  static std::map<unsigned, std::unique_ptr<TcqStateTable>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(tlutBits);
  if (it != cache.end())
    return it->second.get();
  auto tlut = shippedTcqCodebook(tlutBits);
  if (!tlut)
    return tlut.takeError();
  auto table = create(**tlut);
  if (!table)
    return table.takeError();
  auto owned = std::make_unique<TcqStateTable>(std::move(*table));
  const TcqStateTable *result = owned.get();
  cache.emplace(tlutBits, std::move(owned));
  return result;
}

const TcqStateTable *TcqStateTable::computed(TrellisCode code) {
  static std::mutex mutex;
  static std::map<TrellisCode, std::unique_ptr<TcqStateTable>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(code);
  if (it != cache.end())
    return it->second.get();
  auto table = std::unique_ptr<TcqStateTable>(
      new TcqStateTable(build(0, [&](uint32_t state, float(&values)[4]) {
        auto [x1, x2] = computedTrellisWords(code, state);
        values[0] = computedTrellisValue(code, x1);
        values[1] = computedTrellisValue(code, x2);
        values[2] = roundToHalf(values[0]);
        values[3] = roundToHalf(values[1]);
      })));
  const TcqStateTable *result = table.get();
  cache.emplace(code, std::move(table));
  return result;
}

const float *TcqStateTable::first(CodebookPrecision precision) const {
  return storage.get() +
         (precision == CodebookPrecision::Fp32 ? 0 : 2 * kTcqStates);
}

const float *TcqStateTable::second(CodebookPrecision precision) const {
  return first(precision) + kTcqStates;
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

llvm::Error qpal::checkTcqShape(llvm::StringRef what, int64_t rows,
                                int64_t cols, unsigned kv, unsigned multiple) {
  if (kv < 2 || kv > 10)
    return makeError(
        llvm::formatv("{0}: expects KV in [2, 10], got {1}", what, kv));
  if (rows <= 0 || cols <= 0)
    return makeError(llvm::formatv(
        "{0}: expects a non-empty weight, got {1}x{2}", what, rows, cols));
  if (rows % multiple != 0)
    return makeError(llvm::formatv("{0}: expects M divisible by {1}, got {2}",
                                   what, multiple, rows));
  if (cols % multiple != 0)
    return makeError(llvm::formatv("{0}: expects K divisible by {1}, got {2}",
                                   what, multiple, cols));
  return llvm::Error::success();
}

static llvm::Error checkKv(llvm::StringRef what, unsigned kv) {
  if (kv < 2 || kv > 10)
    return makeError(
        llvm::formatv("{0}: expects KV in [2, 10], got {1}", what, kv));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Tile streams
//===----------------------------------------------------------------------===//

bool qpal::isTailBiting(llvm::ArrayRef<uint16_t> states, unsigned kv) {
  if (states.size() != kTcqStepsPerTile || kv < 1 || kv > 15)
    return false;
  const uint32_t low = (1u << (16 - kv)) - 1;
  for (unsigned k = 0; k < kTcqStepsPerTile; ++k) {
    uint32_t next = states[(k + 1) % kTcqStepsPerTile];
    if ((states[k] & low) != (next >> kv))
      return false;
  }
  return true;
}

/// Stream bit `bit` (MSB-first over the uint16 words).
static inline unsigned streamBit(const uint16_t *words, unsigned bit) {
  return (words[bit >> 4] >> (15 - (bit & 15))) & 1u;
}

llvm::Expected<std::vector<uint16_t>>
qpal::packTcqStreams(llvm::ArrayRef<uint16_t> states, unsigned kv) {
  if (auto err = checkKv("packTcqStreams", kv))
    return std::move(err);
  if (states.size() % kTcqStepsPerTile != 0)
    return makeError(llvm::formatv(
        "packTcqStreams: expects 128 states per tile, got {0} states",
        states.size()));
  size_t tiles = states.size() / kTcqStepsPerTile;
  const unsigned words = tcqStreamWords(kv), bits = kTcqStepsPerTile * kv;
  std::vector<uint16_t> streams(tiles * words, 0);
  for (size_t tile = 0; tile < tiles; ++tile) {
    llvm::ArrayRef<uint16_t> path =
        states.slice(tile * kTcqStepsPerTile, kTcqStepsPerTile);
    if (!isTailBiting(path, kv))
      return makeError(llvm::formatv(
          "packTcqStreams: the states of tile {0} are not a tail-biting path "
          "for KV = {1}",
          tile, kv));
    uint16_t *out = streams.data() + tile * words;
    unsigned position = 0;
    auto put = [&](uint32_t value, unsigned width) {
      for (unsigned i = 0; i < width && position < bits; ++i, ++position)
        if ((value >> (width - 1 - i)) & 1u)
          out[position >> 4] |=
              static_cast<uint16_t>(0x8000u >> (position & 15));
    };
    // The first state in full, then the KV new bits of every later state;
    // the bits past N repeat the head of the stream and are dropped.
    put(path[0], 16);
    for (unsigned k = 1; k < kTcqStepsPerTile; ++k)
      put(path[k] & ((1u << kv) - 1), kv);
  }
  return streams;
}

/// State k of a circular stream of `bits` bits.
static inline uint16_t windowAt(const uint16_t *words, unsigned k,
                                unsigned kv) {
  const unsigned bits = kTcqStepsPerTile * kv;
  unsigned start = k * kv;
  uint32_t state = 0;
  for (unsigned i = 0; i < 16; ++i)
    state = (state << 1) | streamBit(words, (start + i) % bits);
  return static_cast<uint16_t>(state);
}

llvm::Expected<std::vector<uint16_t>>
qpal::unpackTcqStreams(llvm::ArrayRef<uint16_t> streams, unsigned kv) {
  if (auto err = checkKv("unpackTcqStreams", kv))
    return std::move(err);
  const unsigned words = tcqStreamWords(kv);
  if (streams.size() % words != 0)
    return makeError(llvm::formatv(
        "unpackTcqStreams: expects {0} words per tile for KV = {1}, got {2} "
        "words",
        words, kv, streams.size()));
  size_t tiles = streams.size() / words;
  std::vector<uint16_t> states(tiles * kTcqStepsPerTile);
  for (size_t tile = 0; tile < tiles; ++tile)
    for (unsigned k = 0; k < kTcqStepsPerTile; ++k)
      states[tile * kTcqStepsPerTile + k] =
          windowAt(streams.data() + tile * words, k, kv);
  return states;
}

//===----------------------------------------------------------------------===//
// Kernel layout
//===----------------------------------------------------------------------===//

namespace {
/// Where lane `lane`'s chunk of tile (tileRow, tileCol) lives in the kernel
/// layout of a matrix with `cols` columns: the lane segment's first byte and
/// the chunk's bit offset inside the segment (4 KV q).
struct ChunkPlace {
  size_t segmentByte;
  unsigned bitOffset;
};
inline ChunkPlace chunkPlace(int64_t cols, unsigned kv, int64_t tileRow,
                             int64_t tileCol, unsigned lane) {
  int64_t supertile = (tileRow / 2) * (cols / kSupertileDim) + tileCol / 2;
  unsigned q = 2 * static_cast<unsigned>(tileCol & 1) +
               static_cast<unsigned>(tileRow & 1);
  size_t segment = static_cast<size_t>(supertile) * kWarpLanes + lane;
  return {segment * 2 * kv, 4 * kv * q};
}

/// Stream bits [first, first + width) as an integer, the first bit most
/// significant.
inline uint64_t readStreamBits(const uint16_t *words, unsigned first,
                               unsigned width) {
  uint64_t value = 0;
  for (unsigned i = 0; i < width; ++i)
    value = (value << 1) | streamBit(words, first + i);
  return value;
}

/// Sets stream bits [first, first + width) (zero before) from `value`, its
/// most significant bit first.
inline void writeStreamBits(uint16_t *words, unsigned first, unsigned width,
                            uint64_t value) {
  for (unsigned i = 0; i < width; ++i)
    if ((value >> (width - 1 - i)) & 1u)
      words[(first + i) >> 4] |=
          static_cast<uint16_t>(0x8000u >> ((first + i) & 15));
}

/// Bits [offset, offset + width) of little-endian bytes, LSB-first.
inline uint64_t readLittleEndianBits(const uint8_t *bytes, unsigned offset,
                                     unsigned width) {
  uint64_t value = 0;
  for (unsigned i = 0; i < width; ++i)
    value |= static_cast<uint64_t>(
                 (bytes[(offset + i) >> 3] >> ((offset + i) & 7)) & 1u)
             << i;
  return value;
}

/// ORs `value` into bits [offset, offset + width) of little-endian bytes.
inline void orLittleEndianBits(uint8_t *bytes, unsigned offset, unsigned width,
                               uint64_t value) {
  for (unsigned i = 0; i < width; ++i)
    if ((value >> i) & 1u)
      bytes[(offset + i) >> 3] |=
          static_cast<uint8_t>(1u << ((offset + i) & 7));
}
} // namespace

llvm::Expected<std::vector<uint8_t>>
qpal::packTcqKernelLayout(llvm::ArrayRef<uint16_t> streams, int64_t rows,
                          int64_t cols, unsigned kv) {
  if (auto err =
          checkTcqShape("packTcqKernelLayout", rows, cols, kv, kSupertileDim))
    return std::move(err);
  const unsigned words = tcqStreamWords(kv), chunkBits = 4 * kv;
  int64_t tileRows = rows / kTileDim, tileCols = cols / kTileDim;
  if (streams.size() != static_cast<size_t>(tileRows * tileCols) * words)
    return makeError(llvm::formatv(
        "packTcqKernelLayout: expects {0} stream words for a {1}x{2} matrix "
        "at KV = {3}, got {4}",
        static_cast<size_t>(tileRows * tileCols) * words, rows, cols, kv,
        streams.size()));
  std::vector<uint8_t> packed(static_cast<size_t>(rows * cols) * kv / 16, 0);
  for (int64_t tileRow = 0; tileRow < tileRows; ++tileRow)
    for (int64_t tileCol = 0; tileCol < tileCols; ++tileCol) {
      const uint16_t *stream =
          streams.data() + (tileRow * tileCols + tileCol) * words;
      for (unsigned lane = 0; lane < kWarpLanes; ++lane) {
        ChunkPlace place = chunkPlace(cols, kv, tileRow, tileCol, lane);
        orLittleEndianBits(packed.data() + place.segmentByte, place.bitOffset,
                           chunkBits,
                           readStreamBits(stream, chunkBits * lane, chunkBits));
      }
    }
  return packed;
}

/// Checks the byte count of a kernel-layout buffer.
static llvm::Error checkPackedSize(llvm::StringRef what, size_t size,
                                   int64_t rows, int64_t cols, unsigned kv) {
  size_t expected = static_cast<size_t>(rows * cols) * kv / 16;
  if (size != expected)
    return makeError(llvm::formatv(
        "{0}: expects {1} bytes for a {2}x{3} matrix at KV = {4}, got {5}",
        what, expected, rows, cols, kv, size));
  return llvm::Error::success();
}

llvm::Expected<std::vector<uint16_t>>
qpal::unpackTcqKernelLayout(llvm::ArrayRef<uint8_t> packed, int64_t rows,
                            int64_t cols, unsigned kv) {
  if (auto err =
          checkTcqShape("unpackTcqKernelLayout", rows, cols, kv, kSupertileDim))
    return std::move(err);
  if (auto err = checkPackedSize("unpackTcqKernelLayout", packed.size(), rows,
                                 cols, kv))
    return std::move(err);
  const unsigned words = tcqStreamWords(kv), chunkBits = 4 * kv;
  int64_t tileRows = rows / kTileDim, tileCols = cols / kTileDim;
  std::vector<uint16_t> streams(
      static_cast<size_t>(tileRows * tileCols) * words, 0);
  for (int64_t tileRow = 0; tileRow < tileRows; ++tileRow)
    for (int64_t tileCol = 0; tileCol < tileCols; ++tileCol) {
      uint16_t *stream =
          streams.data() + (tileRow * tileCols + tileCol) * words;
      for (unsigned lane = 0; lane < kWarpLanes; ++lane) {
        ChunkPlace place = chunkPlace(cols, kv, tileRow, tileCol, lane);
        writeStreamBits(stream, chunkBits * lane, chunkBits,
                        readLittleEndianBits(packed.data() + place.segmentByte,
                                             place.bitOffset, chunkBits));
      }
    }
  return streams;
}

//===----------------------------------------------------------------------===//
// Reconstruction
//===----------------------------------------------------------------------===//

/// Writes the reconstruction of one tile's states into `out` (row-major,
/// `cols` columns) at tile (tileRow, tileCol).
static void reconstructTile(const uint16_t *states, int64_t tileRow,
                            int64_t tileCol, int64_t cols,
                            const TcqStateTable &table,
                            CodebookPrecision precision, float *out) {
  const float *first = table.first(precision);
  const float *second = table.second(precision);
  for (unsigned k = 0; k < kTcqStepsPerTile; ++k) {
    TilePosition pos = tileSequencePosition(2 * k);
    float *dst = out + (tileRow * kTileDim + pos.row) * cols +
                 tileCol * kTileDim + pos.col;
    dst[0] = first[states[k]];
    dst[1] = second[states[k]];
  }
}

llvm::Expected<std::vector<float>>
qpal::reconstructTcqStates(llvm::ArrayRef<uint16_t> states, int64_t rows,
                           int64_t cols, const TcqStateTable &table,
                           CodebookPrecision precision) {
  if (auto err = checkTcqShape("reconstructTcqStates", rows, cols, 2, kTileDim))
    return std::move(err);
  int64_t tileRows = rows / kTileDim, tileCols = cols / kTileDim;
  if (states.size() !=
      static_cast<size_t>(tileRows * tileCols) * kTcqStepsPerTile)
    return makeError(llvm::formatv(
        "reconstructTcqStates: expects {0} states for a {1}x{2} matrix, got "
        "{3}",
        static_cast<size_t>(tileRows * tileCols) * kTcqStepsPerTile, rows, cols,
        states.size()));
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t tileRow = 0; tileRow < tileRows; ++tileRow)
    for (int64_t tileCol = 0; tileCol < tileCols; ++tileCol)
      reconstructTile(states.data() +
                          (tileRow * tileCols + tileCol) * kTcqStepsPerTile,
                      tileRow, tileCol, cols, table, precision, out.data());
  return out;
}

llvm::Expected<std::vector<float>> qpal::decodeTcqKernelLayout(
    llvm::ArrayRef<uint8_t> packed, int64_t rows, int64_t cols, unsigned kv,
    const TcqStateTable &table, CodebookPrecision precision) {
  if (auto err =
          checkTcqShape("decodeTcqKernelLayout", rows, cols, kv, kSupertileDim))
    return std::move(err);
  if (auto err = checkPackedSize("decodeTcqKernelLayout", packed.size(), rows,
                                 cols, kv))
    return std::move(err);
  const unsigned bits = kTcqStepsPerTile * kv, chunkBits = 4 * kv;
  int64_t tileRows = rows / kTileDim, tileCols = cols / kTileDim;
  std::vector<float> out(static_cast<size_t>(rows * cols));
  uint16_t states[kTcqStepsPerTile];
  // One tile's stream, one bit per byte, followed by its first 16 bits again
  // so that the windows of the last lanes wrap around to lane 0.
  uint8_t stream[kTcqStepsPerTile * 10 + 16];
  for (int64_t tileRow = 0; tileRow < tileRows; ++tileRow)
    for (int64_t tileCol = 0; tileCol < tileCols; ++tileCol) {
      // Lane w's chunk holds stream bits [4 KV w, 4 KV (w + 1)), its most
      // significant bit first.
      for (unsigned lane = 0; lane < kWarpLanes; ++lane) {
        ChunkPlace place = chunkPlace(cols, kv, tileRow, tileCol, lane);
        uint64_t chunk = readLittleEndianBits(packed.data() + place.segmentByte,
                                              place.bitOffset, chunkBits);
        for (unsigned i = 0; i < chunkBits; ++i)
          stream[chunkBits * lane + i] = (chunk >> (chunkBits - 1 - i)) & 1u;
      }
      std::copy(stream, stream + 16, stream + bits);
      // State 4 w + j is the 16-bit window at stream bit (4 w + j) KV.
      for (unsigned k = 0; k < kTcqStepsPerTile; ++k) {
        uint32_t state = 0;
        for (unsigned i = 0; i < 16; ++i)
          state = (state << 1) | stream[k * kv + i];
        states[k] = static_cast<uint16_t>(state);
      }
      reconstructTile(states, tileRow, tileCol, cols, table, precision,
                      out.data());
    }
  return out;
}
