//===- LutQuantizers.cpp - VQ and SQ with fixed codebooks -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/LutQuantizers.h"

#include "Diagnostics.h"
#include "Parallel.h"
#include "qpal/Quant/TileLayout.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace qpal;

using detail::makeError;

//===----------------------------------------------------------------------===//
// Nearest codeword
//===----------------------------------------------------------------------===//

llvm::Expected<NearestCodeword>
NearestCodeword::create(const Codebook &codebook) {
  return create(codebook.values(), codebook.dim());
}

llvm::Expected<NearestCodeword>
NearestCodeword::create(llvm::ArrayRef<float> values, unsigned dim) {
  if (dim != 1 && dim != 2)
    return makeError(llvm::formatv(
        "nearest-codeword search supports 1-D and 2-D codebooks, got "
        "dimension {0}",
        dim));
  if (values.empty() || values.size() % dim != 0)
    return makeError(llvm::formatv(
        "nearest-codeword search: expects codewords of {0} values, got {1} "
        "values",
        dim, values.size()));
  NearestCodeword search;
  search.dimension = dim;
  size_t entries = values.size() / dim;
  std::vector<uint32_t> order(entries);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    float fa = values[a * dim], fb = values[b * dim];
    return fa < fb || (fa == fb && a < b);
  });
  for (uint32_t index : order) {
    search.sortedIndex.push_back(index);
    search.sortedFirst.push_back(values[index * dim]);
    search.sortedSecond.push_back(dim == 2 ? values[index * dim + 1] : 0.0);
  }
  return search;
}

uint32_t NearestCodeword::find(const double *target) const {
  const double x = target[0], y = dimension == 2 ? target[1] : 0.0;
  const size_t count = sortedFirst.size();
  double best = std::numeric_limits<double>::infinity();
  uint32_t bestIndex = UINT32_MAX;
  auto consider = [&](size_t i) {
    double dx = x - sortedFirst[i];
    double distance = dx * dx;
    if (dimension == 2) {
      double dy = y - sortedSecond[i];
      distance += dy * dy;
    }
    if (distance < best || (distance == best && sortedIndex[i] < bestIndex)) {
      best = distance;
      bestIndex = sortedIndex[i];
    }
  };
  // The squared first-component gap grows monotonically away from `x`
  // (rounding is monotone), and it bounds the full distance from below, so
  // each side stops at the first codeword whose gap alone exceeds the best
  // distance. Equal gaps are still visited: they may tie at a lower index.
  size_t split = static_cast<size_t>(
      std::lower_bound(sortedFirst.begin(), sortedFirst.end(), x) -
      sortedFirst.begin());
  size_t left = split, right = split;
  bool leftOpen = left > 0, rightOpen = right < count;
  while (leftOpen || rightOpen) {
    if (rightOpen) {
      double dx = sortedFirst[right] - x;
      if (dx * dx > best) {
        rightOpen = false;
      } else {
        consider(right);
        rightOpen = ++right < count;
      }
    }
    if (leftOpen) {
      double dx = x - sortedFirst[left - 1];
      if (dx * dx > best) {
        leftOpen = false;
      } else {
        consider(left - 1);
        leftOpen = --left > 0;
      }
    }
  }
  return bestIndex;
}

//===----------------------------------------------------------------------===//
// Codes
//===----------------------------------------------------------------------===//

llvm::Error qpal::checkLutShape(llvm::StringRef what, int64_t rows,
                                int64_t cols, unsigned dim,
                                unsigned rowMultiple, unsigned colMultiple) {
  if (dim != 1 && dim != 2)
    return makeError(llvm::formatv(
        "{0}: expects vector dimension 1 (SQ) or 2 (VQ), got {1}", what, dim));
  if (rows <= 0 || cols <= 0)
    return makeError(llvm::formatv(
        "{0}: expects a non-empty weight, got {1}x{2}", what, rows, cols));
  if (rows % rowMultiple != 0)
    return makeError(llvm::formatv("{0}: expects M divisible by {1}, got {2}",
                                   what, rowMultiple, rows));
  unsigned multiple = std::max(colMultiple, dim);
  if (cols % multiple != 0)
    return makeError(llvm::formatv("{0}: expects K divisible by {1}, got {2}",
                                   what, multiple, cols));
  return llvm::Error::success();
}

llvm::Expected<std::vector<uint16_t>>
qpal::encodeLutCodes(const float *weights, int64_t rows, int64_t cols,
                     const Codebook &codebook, unsigned threads) {
  const unsigned dim = codebook.dim();
  if (auto err = checkLutShape("VQ/SQ encoder", rows, cols, dim, 1, 1))
    return std::move(err);
  if (!weights)
    return makeError("VQ/SQ encoder: null weight pointer");
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(weights[i]))
      return makeError(llvm::formatv(
          "VQ/SQ encoder: the normalized weight at ({0}, {1}) is not finite",
          i / cols, i % cols));
  auto search = NearestCodeword::create(codebook);
  if (!search)
    return search.takeError();

  const int64_t vectorsPerRow = cols / dim;
  std::vector<uint16_t> codes(static_cast<size_t>(rows * vectorsPerRow));
  unsigned workers = detail::resolveThreads(threads, static_cast<size_t>(rows));
  detail::parallelFor(static_cast<size_t>(rows), workers,
                      [&](unsigned, size_t row) {
                        const float *source = weights + row * cols;
                        uint16_t *out = codes.data() + row * vectorsPerRow;
                        double target[2];
                        for (int64_t v = 0; v < vectorsPerRow; ++v) {
                          for (unsigned c = 0; c < dim; ++c)
                            target[c] = source[v * dim + c];
                          out[v] = static_cast<uint16_t>(search->find(target));
                        }
                      });
  return codes;
}

llvm::Expected<std::vector<float>>
qpal::decodeLutCodes(llvm::ArrayRef<uint16_t> codes, int64_t rows, int64_t cols,
                     const Codebook &codebook, CodebookPrecision precision) {
  const unsigned dim = codebook.dim();
  if (auto err = checkLutShape("VQ/SQ decoder", rows, cols, dim, 1, 1))
    return std::move(err);
  if (codes.size() != static_cast<size_t>(rows * cols / dim))
    return makeError(llvm::formatv(
        "VQ/SQ decoder: expects {0} codes for a {1}x{2} matrix, got {3}",
        rows * cols / dim, rows, cols, codes.size()));
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (size_t v = 0; v < codes.size(); ++v) {
    if (codes[v] >= codebook.entries())
      return makeError(llvm::formatv(
          "VQ/SQ decoder: code {0} at vector {1} is out of range for a "
          "codebook of {2} entries",
          codes[v], v, codebook.entries()));
    for (unsigned c = 0; c < dim; ++c)
      out[v * dim + c] = codebook.at(codes[v], c, precision);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Tensor-core layout
//===----------------------------------------------------------------------===//

namespace {
/// Visits every code slot of the tensor-core layout: `visit(codeIndex,
/// bitOffset)` with the row-major code index and the absolute bit offset
/// (LSB-first within little-endian bytes) of its field.
template <typename Visit>
void forEachTensorCoreSlot(int64_t rows, int64_t cols, unsigned bits,
                           unsigned dim, Visit visit) {
  const unsigned chunkCodes = dim == 1 ? 8 : 4;
  const uint64_t chunkBits = static_cast<uint64_t>(chunkCodes) * bits;
  const uint64_t segmentBits = 4 * chunkBits;
  const int64_t vectorsPerRow = cols / dim;
  const int64_t supertileCols = cols / kSupertileDim;
  for (int64_t i2 = 0; i2 < rows / kSupertileDim; ++i2)
    for (int64_t j2 = 0; j2 < supertileCols; ++j2)
      for (unsigned lane = 0; lane < kWarpLanes; ++lane) {
        uint64_t segment = static_cast<uint64_t>(
                               (i2 * supertileCols + j2) * kWarpLanes + lane) *
                           segmentBits;
        for (unsigned q = 0; q < 4; ++q) {
          TileCoord tile = supertileMember(i2, j2, q);
          for (unsigned e = 0; e < chunkCodes; ++e) {
            // SQ: sequence position 8 w + e; VQ: pair 4 w + e, i.e.
            // positions 2 (4 w + e) and the next one.
            unsigned t = dim == 1 ? 8 * lane + e : 2 * (4 * lane + e);
            TilePosition pos = tileSequencePosition(t);
            int64_t row = tile.row * kTileDim + pos.row;
            int64_t col = tile.col * kTileDim + pos.col;
            visit(static_cast<size_t>(row * vectorsPerRow + col / dim),
                  segment + chunkBits * q + static_cast<uint64_t>(bits) * e);
          }
        }
      }
}

llvm::Error checkLutBits(llvm::StringRef what, unsigned bits) {
  if (bits < 1 || bits > 16)
    return makeError(
        llvm::formatv("{0}: expects 1..16 index bits, got {1}", what, bits));
  return llvm::Error::success();
}
} // namespace

llvm::Expected<std::vector<uint8_t>>
qpal::packLutTensorCore(llvm::ArrayRef<uint16_t> codes, int64_t rows,
                        int64_t cols, unsigned bits, unsigned dim) {
  if (auto err = checkLutShape("packLutTensorCore", rows, cols, dim,
                               kSupertileDim, kSupertileDim))
    return std::move(err);
  if (auto err = checkLutBits("packLutTensorCore", bits))
    return std::move(err);
  if (codes.size() != static_cast<size_t>(rows * cols / dim))
    return makeError(llvm::formatv(
        "packLutTensorCore: expects {0} codes for a {1}x{2} matrix, got {3}",
        rows * cols / dim, rows, cols, codes.size()));
  std::vector<uint8_t> packed(
      static_cast<size_t>(rows * cols) * bits / (8 * dim), 0);
  bool overflow = false;
  forEachTensorCoreSlot(
      rows, cols, bits, dim, [&](size_t index, uint64_t offset) {
        uint32_t code = codes[index];
        overflow |= (code >> bits) != 0;
        for (unsigned i = 0; i < bits; ++i, ++offset)
          if ((code >> i) & 1u)
            packed[offset / 8] |= static_cast<uint8_t>(1u << (offset % 8));
      });
  if (overflow)
    return makeError(llvm::formatv(
        "packLutTensorCore: a code does not fit in {0} bits", bits));
  return packed;
}

llvm::Expected<std::vector<uint16_t>>
qpal::unpackLutTensorCore(llvm::ArrayRef<uint8_t> packed, int64_t rows,
                          int64_t cols, unsigned bits, unsigned dim) {
  if (auto err = checkLutShape("unpackLutTensorCore", rows, cols, dim,
                               kSupertileDim, kSupertileDim))
    return std::move(err);
  if (auto err = checkLutBits("unpackLutTensorCore", bits))
    return std::move(err);
  size_t expected = static_cast<size_t>(rows * cols) * bits / (8 * dim);
  if (packed.size() != expected)
    return makeError(llvm::formatv(
        "unpackLutTensorCore: expects {0} bytes for a {1}x{2} matrix at {3} "
        "bits, got {4}",
        expected, rows, cols, bits, packed.size()));
  std::vector<uint16_t> codes(static_cast<size_t>(rows * cols / dim));
  forEachTensorCoreSlot(
      rows, cols, bits, dim, [&](size_t index, uint64_t offset) {
        uint32_t code = 0;
        for (unsigned i = 0; i < bits; ++i, ++offset)
          code |=
              static_cast<uint32_t>((packed[offset / 8] >> (offset % 8)) & 1u)
              << i;
        codes[index] = static_cast<uint16_t>(code);
      });
  return codes;
}
