//===- TcqSplit.cpp - Fractional-rate TCQ over column halves --------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/TcqSplit.h"

#include "qpal/Quant/TileLayout.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

using namespace qpal;

static llvm::Error checkSplitShape(llvm::StringRef what, int64_t rows,
                                   int64_t cols, unsigned kv1, unsigned kv2) {
  if (auto err = checkTcqShape(what, rows, cols, kv1, kSupertileDim))
    return err;
  if (auto err = checkTcqShape(what, rows, cols, kv2, kSupertileDim))
    return err;
  if (cols % (2 * kSupertileDim) != 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("{0}: expects K divisible by 64 (two halves of whole "
                      "supertiles), got {1}",
                      what, cols));
  return llvm::Error::success();
}

uint64_t qpal::tcqSplitSecondPartOffset(int64_t rows, int64_t cols,
                                        unsigned kv1) {
  return static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols / 2) * kv1 /
         16;
}

/// Copies columns [first, first + width) of a row-major matrix.
static std::vector<float> copyColumns(const float *weights, int64_t rows,
                                      int64_t cols, int64_t first,
                                      int64_t width) {
  std::vector<float> half(static_cast<size_t>(rows * width));
  for (int64_t row = 0; row < rows; ++row)
    std::copy(weights + row * cols + first,
              weights + row * cols + first + width, half.begin() + row * width);
  return half;
}

llvm::Expected<std::vector<uint8_t>>
qpal::encodeTcqSplit(const float *weights, int64_t rows, int64_t cols,
                     unsigned kv1, unsigned kv2, const TcqStateTable &table,
                     const TcqEncodeOptions &options) {
  if (auto err = checkSplitShape("split TCQ encoder", rows, cols, kv1, kv2))
    return std::move(err);
  if (!weights)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "split TCQ encoder: null weight pointer");
  const int64_t half = cols / 2;
  std::vector<uint8_t> codes;
  for (unsigned part = 0; part < 2; ++part) {
    std::vector<float> columns =
        copyColumns(weights, rows, cols, part * half, half);
    auto packed = encodeTcqKernelLayout(columns.data(), rows, half,
                                        part ? kv2 : kv1, table, options);
    if (!packed)
      return packed.takeError();
    codes.insert(codes.end(), packed->begin(), packed->end());
  }
  return codes;
}

llvm::Expected<std::vector<float>>
qpal::decodeTcqSplit(llvm::ArrayRef<uint8_t> codes, int64_t rows, int64_t cols,
                     unsigned kv1, unsigned kv2, const TcqStateTable &table,
                     CodebookPrecision precision) {
  if (auto err = checkSplitShape("split TCQ decoder", rows, cols, kv1, kv2))
    return std::move(err);
  const int64_t half = cols / 2;
  uint64_t offset = tcqSplitSecondPartOffset(rows, cols, kv1);
  uint64_t total = offset + tcqSplitSecondPartOffset(rows, cols, kv2);
  if (codes.size() != total)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("split TCQ decoder: expects {0} bytes for a {1}x{2} "
                      "matrix at KV = ({3}, {4}), got {5}",
                      total, rows, cols, kv1, kv2, codes.size()));
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (unsigned part = 0; part < 2; ++part) {
    llvm::ArrayRef<uint8_t> bytes =
        part ? codes.drop_front(offset) : codes.take_front(offset);
    auto decoded = decodeTcqKernelLayout(bytes, rows, half, part ? kv2 : kv1,
                                         table, precision);
    if (!decoded)
      return decoded.takeError();
    for (int64_t row = 0; row < rows; ++row)
      std::copy(decoded->begin() + row * half,
                decoded->begin() + (row + 1) * half,
                out.begin() + row * cols + part * half);
  }
  return out;
}
