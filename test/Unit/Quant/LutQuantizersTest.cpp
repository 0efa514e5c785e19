//===- LutQuantizersTest.cpp - VQ/SQ search and tensor-core layout --------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/Random.h"

#include "QuantTestUtil.h"

#include <limits>

using namespace qpal;
using namespace qpal::test;

namespace {

/// The reference's search, literally: float64 distances to every codeword,
/// the first minimum wins.
uint32_t bruteForce(const Codebook &codebook, const double *x) {
  double best = std::numeric_limits<double>::infinity();
  uint32_t index = 0;
  for (uint32_t i = 0; i < codebook.entries(); ++i) {
    double d = 0;
    for (unsigned c = 0; c < codebook.dim(); ++c) {
      double diff = x[c] - static_cast<double>(codebook.at(i, c));
      d += diff * diff;
    }
    if (d < best) {
      best = d;
      index = i;
    }
  }
  return index;
}

/// The sorted search returns the brute-force index for every shipped
/// codebook, on Gaussian targets, codewords themselves, midpoints between
/// codewords (exact ties), and far outliers.
TEST(LutQuantizers, NearestCodewordIsExact) {
  std::vector<const Codebook *> codebooks;
  for (unsigned b = 2; b <= 8; ++b)
    codebooks.push_back(*shippedLutCodebook(b, 1));
  for (unsigned b = 2; b <= 12; ++b)
    codebooks.push_back(*shippedLutCodebook(b, 2));
  SplitMix64 rng(5);
  for (const Codebook *codebook : codebooks) {
    auto search = NearestCodeword::create(*codebook);
    QPAL_ASSERT_OK(search);
    const unsigned dim = codebook->dim();
    auto check = [&](double x0, double x1) {
      double x[2] = {x0, x1};
      ASSERT_EQ(search->find(x), bruteForce(*codebook, x))
          << codebook->bits() << "x" << dim << " at " << x0 << ", " << x1;
    };
    for (int i = 0; i < 1500; ++i)
      check(rng.gaussian() * 1.2, rng.gaussian() * 1.2);
    for (size_t i = 0; i + 1 < codebook->entries(); ++i) {
      double a0 = codebook->at(i, 0), b0 = codebook->at(i + 1, 0);
      double a1 = dim == 2 ? codebook->at(i, 1) : 0.0;
      double b1 = dim == 2 ? codebook->at(i + 1, 1) : 0.0;
      check(a0, a1);
      check((a0 + b0) / 2, (a1 + b1) / 2);
    }
    check(100.0, -100.0);
    check(-1e-300, 0.0);
  }
  // Duplicate codewords: the lowest index wins.
  Codebook duplicated(2, 1, {0.5f, -1.0f, 0.5f, 2.0f});
  auto search = NearestCodeword::create(duplicated);
  QPAL_ASSERT_OK(search);
  double x = 0.4;
  EXPECT_EQ(search->find(&x), 0u);
  x = 1.25; // equidistant from 0.5 (index 0 and 2) and 2.0
  EXPECT_EQ(search->find(&x), 0u);
}

/// Encoding keeps (2k, 2k+1) pairs together and decodes to the codewords.
TEST(LutQuantizers, EncodeDecode) {
  const Codebook &vq = **shippedLutCodebook(6, 2);
  std::vector<float> weights = {vq.at(5, 0), vq.at(5, 1), vq.at(60, 0),
                                vq.at(60, 1)};
  auto codes = encodeLutCodes(weights.data(), 1, 4, vq);
  QPAL_ASSERT_OK(codes);
  EXPECT_EQ(*codes, (std::vector<uint16_t>{5, 60}));
  auto decoded = decodeLutCodes(*codes, 1, 4, vq, CodebookPrecision::Fp32);
  QPAL_ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, weights);
  QPAL_EXPECT_CONTAINS(errorOf(encodeLutCodes(weights.data(), 1, 3, vq)),
                       "expects K divisible by 2, got 3");
  weights[1] = INFINITY;
  QPAL_EXPECT_CONTAINS(errorOf(encodeLutCodes(weights.data(), 1, 4, vq)),
                       "the normalized weight at (0, 1) is not finite");
  std::vector<uint16_t> bad = {5, 64};
  QPAL_EXPECT_CONTAINS(
      errorOf(decodeLutCodes(bad, 1, 4, vq, CodebookPrecision::Fp32)),
      "code 64 at vector 1 is out of range for a codebook of 64 entries");
}

/// kernels-and-msq.md 5, written independently: per lane and superblock,
/// 2 R / vec uint16 words form a little-endian integer; tile
/// t = subk 2 + subm holds chunk t; element e of a chunk sits at bits
/// [R e, R (e + 1)); elements follow the fragment order of section 4.3
/// (SQ: e = 2 j + {0, 1}; VQ: e = j) with g = lane / 4, t = lane % 4.
std::vector<uint8_t> closedFormLayout(const std::vector<uint16_t> &codes,
                                      int64_t rows, int64_t cols, unsigned r,
                                      unsigned vec) {
  const unsigned elements = vec == 1 ? 8 : 4;
  const unsigned segmentBits = 4 * elements * r;
  std::vector<uint8_t> out(static_cast<size_t>(rows * cols) * r / (8 * vec));
  const int64_t perRow = cols / vec;
  for (int64_t mp = 0; mp < rows / 32; ++mp)
    for (int64_t kp = 0; kp < cols / 32; ++kp)
      for (unsigned lane = 0; lane < 32; ++lane) {
        uint64_t base =
            ((mp * (cols / 32) + kp) * 32 + lane) * uint64_t(segmentBits);
        for (unsigned subk = 0; subk < 2; ++subk)
          for (unsigned subm = 0; subm < 2; ++subm)
            for (unsigned e = 0; e < elements; ++e) {
              unsigned j = vec == 1 ? e / 2 : e;
              unsigned half = vec == 1 ? e % 2 : 0;
              int64_t row = (2 * mp + subm) * 16 + lane / 4 + 8 * (j % 2);
              int64_t col =
                  (2 * kp + subk) * 16 + 2 * (lane % 4) + 8 * (j / 2) + half;
              uint16_t code = codes[row * perRow + col / vec];
              uint64_t at = base + (subk * 2 + subm) * elements * r + e * r;
              for (unsigned b = 0; b < r; ++b, ++at)
                if ((code >> b) & 1)
                  out[at / 8] |= static_cast<uint8_t>(1u << (at % 8));
            }
      }
  return out;
}

TEST(LutQuantizers, TensorCoreLayoutMatchesTheClosedForm) {
  const int64_t rows = 64, cols = 96;
  SplitMix64 rng(17);
  for (unsigned vec : {1u, 2u})
    for (unsigned bits = 2; bits <= (vec == 1 ? 8u : 12u); ++bits) {
      std::vector<uint16_t> codes(rows * cols / vec);
      for (uint16_t &code : codes)
        code = static_cast<uint16_t>(rng.next() & ((1u << bits) - 1));
      auto packed = packLutTensorCore(codes, rows, cols, bits, vec);
      QPAL_ASSERT_OK(packed);
      EXPECT_EQ(*packed, closedFormLayout(codes, rows, cols, bits, vec))
          << vec << " " << bits;
      auto unpacked = unpackLutTensorCore(*packed, rows, cols, bits, vec);
      QPAL_ASSERT_OK(unpacked);
      EXPECT_EQ(*unpacked, codes);
    }
}

TEST(LutQuantizers, RejectsBadLayouts) {
  std::vector<uint16_t> codes(32 * 32, 0);
  QPAL_EXPECT_CONTAINS(errorOf(packLutTensorCore(codes, 32, 32, 4, 3)),
                       "expects vector dimension 1 (SQ) or 2 (VQ), got 3");
  QPAL_EXPECT_CONTAINS(errorOf(packLutTensorCore(codes, 32, 48, 4, 1)),
                       "expects K divisible by 32, got 48");
  QPAL_EXPECT_CONTAINS(errorOf(packLutTensorCore(codes, 32, 32, 4, 2)),
                       "expects 512 codes for a 32x32 matrix, got 1024");
  codes[7] = 16;
  QPAL_EXPECT_CONTAINS(errorOf(packLutTensorCore(codes, 32, 32, 4, 1)),
                       "a code does not fit in 4 bits");
}

} // namespace
