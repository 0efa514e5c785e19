//===- SimtLayout.cpp - CUDA-core layouts of VQ and SQ codes --------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/SimtLayout.h"

#include "Diagnostics.h"
#include "qpal/Quant/LutQuantizers.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

using namespace qpal;

using detail::makeError;

namespace {
constexpr int64_t kChunkVectors = kSimtChunkVectors,
                  kLaneVectors = kSimtLaneCodes;

/// Visits every code of the SIMT layout: `visit(codeIndex, bitOffset)` with
/// the row-major code index and the absolute bit offset (LSB-first within
/// little-endian bytes) of its field.
template <typename Visit>
void forEachSimtSlot(int64_t rows, int64_t cols, unsigned bits, unsigned dim,
                     Visit visit) {
  const int64_t vectorsPerRow = cols / dim;
  const int64_t wordsPerRow = vectorsPerRow * bits / 32;
  const unsigned vectorsPerGroup = 8 / dim;
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t chunk = 0; chunk * kChunkVectors < vectorsPerRow; ++chunk) {
      int64_t lanes =
          std::min(kChunkVectors, vectorsPerRow - chunk * kChunkVectors) /
          kLaneVectors;
      for (int64_t lane = 0; lane < lanes; ++lane)
        for (unsigned c = 0; c < kLaneVectors; ++c) {
          unsigned group = c / vectorsPerGroup, inGroup = c % vectorsPerGroup;
          int64_t col = kChunkVectors * dim * chunk + 8 * lanes * group +
                        8 * lane + inGroup * dim;
          // Bit c * bits of the lane's integer lives in lane word
          // (c * bits) / 32, which is row word 32 b k + w' E + w.
          for (unsigned i = 0; i < bits; ++i) {
            unsigned laneBit = c * bits + i;
            int64_t word = 32 * static_cast<int64_t>(bits) * chunk +
                           static_cast<int64_t>(laneBit / 32) * lanes + lane;
            uint64_t offset =
                static_cast<uint64_t>(row * wordsPerRow + word) * 32 +
                laneBit % 32;
            visit(static_cast<size_t>(row * vectorsPerRow + col / dim), i,
                  offset);
          }
        }
    }
}

llvm::Error checkSimt(llvm::StringRef what, int64_t rows, int64_t cols,
                      unsigned bits, unsigned dim) {
  if (auto err = checkLutShape(what, rows, cols, dim, 1, 32 * dim))
    return err;
  if (bits < 1 || bits > 16)
    return makeError(
        llvm::formatv("{0}: expects 1..16 index bits, got {1}", what, bits));
  return llvm::Error::success();
}
} // namespace

llvm::Expected<std::vector<uint8_t>>
qpal::packLutSimt(llvm::ArrayRef<uint16_t> codes, int64_t rows, int64_t cols,
                  unsigned bits, unsigned dim) {
  if (auto err = checkSimt("packLutSimt", rows, cols, bits, dim))
    return std::move(err);
  if (codes.size() != static_cast<size_t>(rows * cols / dim))
    return makeError(llvm::formatv(
        "packLutSimt: expects {0} codes for a {1}x{2} matrix, got {3}",
        rows * cols / dim, rows, cols, codes.size()));
  for (size_t i = 0; i < codes.size(); ++i)
    if ((static_cast<uint32_t>(codes[i]) >> bits) != 0)
      return makeError(llvm::formatv(
          "packLutSimt: code {0} at vector {1} does not fit in {2} bits",
          codes[i], i, bits));
  std::vector<uint8_t> packed(
      static_cast<size_t>(rows * cols) * bits / (8 * dim), 0);
  forEachSimtSlot(
      rows, cols, bits, dim, [&](size_t index, unsigned bit, uint64_t offset) {
        if ((codes[index] >> bit) & 1u)
          packed[offset / 8] |= static_cast<uint8_t>(1u << (offset % 8));
      });
  return packed;
}

llvm::Expected<std::vector<uint16_t>>
qpal::unpackLutSimt(llvm::ArrayRef<uint8_t> packed, int64_t rows, int64_t cols,
                    unsigned bits, unsigned dim) {
  if (auto err = checkSimt("unpackLutSimt", rows, cols, bits, dim))
    return std::move(err);
  size_t expected = static_cast<size_t>(rows * cols) * bits / (8 * dim);
  if (packed.size() != expected)
    return makeError(llvm::formatv(
        "unpackLutSimt: expects {0} bytes for a {1}x{2} matrix at {3} bits, "
        "got {4}",
        expected, rows, cols, bits, packed.size()));
  std::vector<uint16_t> codes(static_cast<size_t>(rows * cols / dim), 0);
  forEachSimtSlot(rows, cols, bits, dim,
                  [&](size_t index, unsigned bit, uint64_t offset) {
                    if ((packed[offset / 8] >> (offset % 8)) & 1u)
                      codes[index] |= static_cast<uint16_t>(1u << bit);
                  });
  return codes;
}

llvm::Expected<std::vector<uint8_t>>
qpal::convertTensorCoreToSimt(llvm::ArrayRef<uint8_t> packed, int64_t rows,
                              int64_t cols, unsigned bits, unsigned dim) {
  auto codes = unpackLutTensorCore(packed, rows, cols, bits, dim);
  if (!codes)
    return codes.takeError();
  return packLutSimt(*codes, rows, cols, bits, dim);
}
