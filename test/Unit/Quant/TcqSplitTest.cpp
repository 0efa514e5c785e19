//===- TcqSplitTest.cpp - Fractional-rate TCQ over column halves ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/TcqSplit.h"
#include "qpal/Quant/Random.h"

#include "QuantTestUtil.h"

using namespace qpal;
using namespace qpal::test;

namespace {

/// Columns [first, first + width) of a row-major matrix.
std::vector<float> columns(const std::vector<float> &w, int64_t rows,
                           int64_t cols, int64_t first, int64_t width) {
  std::vector<float> out;
  for (int64_t r = 0; r < rows; ++r)
    out.insert(out.end(), w.begin() + r * cols + first,
               w.begin() + r * cols + first + width);
  return out;
}

/// The codes are the independent M x K/2 TCQ encodings of the two halves,
/// at KV1 and KV2 with one tlut, concatenated; decoding reassembles them.
TEST(TcqSplit, HalvesAreIndependentTcqMatrices) {
  const int64_t rows = 32, cols = 128;
  std::vector<float> weights(rows * cols);
  fillGaussian(weights.data(), rows * cols, 21);
  for (float &w : weights)
    w *= 0.9f;
  const TcqStateTable &table = **TcqStateTable::shipped(10); // tcomb_8_9
  auto codes = encodeTcqSplit(weights.data(), rows, cols, 8, 9, table);
  QPAL_ASSERT_OK(codes);
  uint64_t offset = tcqSplitSecondPartOffset(rows, cols, 8);
  EXPECT_EQ(offset, static_cast<uint64_t>(rows * 64 * 8 / 16));
  EXPECT_EQ(codes->size(), offset + rows * 64 * 9 / 16);

  std::vector<float> left = columns(weights, rows, cols, 0, 64);
  std::vector<float> right = columns(weights, rows, cols, 64, 64);
  auto first = encodeTcqKernelLayout(left.data(), rows, 64, 8, table);
  auto second = encodeTcqKernelLayout(right.data(), rows, 64, 9, table);
  QPAL_ASSERT_OK(first);
  QPAL_ASSERT_OK(second);
  EXPECT_EQ(std::vector<uint8_t>(codes->begin(), codes->begin() + offset),
            *first);
  EXPECT_EQ(std::vector<uint8_t>(codes->begin() + offset, codes->end()),
            *second);

  auto decoded =
      decodeTcqSplit(*codes, rows, cols, 8, 9, table, CodebookPrecision::Fp16);
  QPAL_ASSERT_OK(decoded);
  auto leftHat = decodeTcqKernelLayout(*first, rows, 64, 8, table,
                                       CodebookPrecision::Fp16);
  auto rightHat = decodeTcqKernelLayout(*second, rows, 64, 9, table,
                                        CodebookPrecision::Fp16);
  EXPECT_EQ(columns(*decoded, rows, cols, 0, 64), *leftHat);
  EXPECT_EQ(columns(*decoded, rows, cols, 64, 64), *rightHat);
}

TEST(TcqSplit, RejectsBadShapes) {
  const TcqStateTable &table = **TcqStateTable::shipped(9);
  std::vector<float> weights(32 * 96, 0.0f);
  QPAL_EXPECT_CONTAINS(
      errorOf(encodeTcqSplit(weights.data(), 32, 96, 6, 7, table)),
      "split TCQ encoder: expects K divisible by 64 (two halves of whole "
      "supertiles), got 96");
  QPAL_EXPECT_CONTAINS(
      errorOf(encodeTcqSplit(weights.data(), 32, 64, 6, 11, table)),
      "expects KV in [2, 10], got 11");
  std::vector<uint8_t> bytes(7);
  QPAL_EXPECT_CONTAINS(errorOf(decodeTcqSplit(bytes, 32, 64, 6, 7, table,
                                              CodebookPrecision::Fp16)),
                       "expects 832 bytes for a 32x64 matrix at KV = (6, 7), "
                       "got 7");
}

} // namespace
