//===- ViterbiTest.cpp - The TCQ encoder against a plain Viterbi ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Viterbi.h"
#include "qpal/Quant/Half.h"
#include "qpal/Quant/Random.h"
#include "qpal/Quant/TileLayout.h"

#include "QuantTestUtil.h"

#include <cmath>
#include <limits>

using namespace qpal;
using namespace qpal::test;

namespace {

/// A straightforward transcription of quantizers.md 4.5 (the reference's
/// `viterbi`/`update`): full 2^16 cost vectors, explicit arg-min
/// predecessors per group (first d on ties), final arg-min (lowest state).
std::vector<uint16_t> plainViterbi(const std::vector<float> &x, unsigned kv,
                                   const TcqStateTable &table, int overlap) {
  const uint32_t states = 1u << 16, groups = 1u << (16 - kv), digits = 1u << kv;
  const float inf = std::numeric_limits<float>::infinity();
  const float *r0 = table.first(CodebookPrecision::Fp32);
  const float *r1 = table.second(CodebookPrecision::Fp32);
  auto error = [&](uint32_t s, unsigned k) {
    float a = r0[s] - x[2 * k], b = r1[s] - x[2 * k + 1];
    float e = a * a;
    e += b * b; // separate roundings, as the reference's .square().sum()
    return e;
  };
  std::vector<float> cost(states);
  for (uint32_t s = 0; s < states; ++s)
    cost[s] = (overlap < 0 || (s >> kv) == static_cast<uint32_t>(overlap))
                  ? error(s, 0)
                  : inf;
  std::vector<std::vector<uint32_t>> from(128, std::vector<uint32_t>(groups));
  std::vector<float> best(groups);
  for (unsigned k = 1; k < 128; ++k) {
    for (uint32_t g = 0; g < groups; ++g) {
      float value = cost[g];
      uint32_t arg = g;
      for (uint32_t d = 1; d < digits; ++d)
        if (cost[g + d * groups] < value) {
          value = cost[g + d * groups];
          arg = g + d * groups;
        }
      best[g] = value;
      from[k][g] = arg;
    }
    for (uint32_t s = 0; s < states; ++s) {
      float e = error(s, k);
      cost[s] = e + best[s >> kv];
    }
  }
  if (overlap >= 0)
    for (uint32_t s = 0; s < states; ++s)
      if ((s & (groups - 1)) != static_cast<uint32_t>(overlap))
        cost[s] = inf;
  uint32_t state = 0;
  for (uint32_t s = 1; s < states; ++s)
    if (cost[s] < cost[state])
      state = s;
  std::vector<uint16_t> path(128);
  path[127] = static_cast<uint16_t>(state);
  for (unsigned k = 127; k > 0; --k)
    path[k - 1] = static_cast<uint16_t>(from[k][path[k] >> kv]);
  return path;
}

/// The two-pass tail-biting encoder on top of `plainViterbi`.
std::vector<uint16_t> plainEncodeTile(const std::vector<float> &x, unsigned kv,
                                      const TcqStateTable &table) {
  std::vector<float> rolled(256);
  for (unsigned t = 0; t < 256; ++t)
    rolled[t] = x[(t + 128) % 256];
  int overlap = plainViterbi(rolled, kv, table, -1)[64] >> kv;
  return plainViterbi(x, kv, table, overlap);
}

/// The sequence-order targets of tile 0 of a 16 x 16 weight.
std::vector<float> tileTargets(const std::vector<float> &weights) {
  std::vector<float> x(256);
  for (unsigned t = 0; t < 256; ++t) {
    TilePosition pos = tileSequencePosition(t);
    x[t] = roundToHalf(weights[pos.row * 16 + pos.col]);
  }
  return x;
}

std::vector<SimdLevel> supportedLevels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level :
       {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
    if (isSimdLevelSupported(level))
      levels.push_back(level);
  return levels;
}

/// Every SIMD level gives exactly the plain Viterbi's states, on Gaussian
/// tiles and on tiles full of ties (all zeros, one repeated codeword).
TEST(Viterbi, MatchesPlainViterbi) {
  struct Case {
    unsigned kv, tlutBits;
  } cases[] = {{2, 9}, {3, 9}, {6, 9}, {9, 10}, {10, 11}};
  for (const Case &c : cases) {
    const TcqStateTable &table = **TcqStateTable::shipped(c.tlutBits);
    std::vector<std::vector<float>> tiles;
    std::vector<float> weights(256);
    fillGaussian(weights.data(), 256, c.kv);
    for (float &w : weights)
      w *= 0.9f;
    tiles.push_back(weights);
    tiles.push_back(std::vector<float>(256, 0.0f));
    tiles.push_back(std::vector<float>(
        256, roundToHalf((**shippedTcqCodebook(c.tlutBits)).at(3, 0))));
    for (const std::vector<float> &tile : tiles) {
      std::vector<float> x = tileTargets(tile);
      std::vector<uint16_t> expected = plainEncodeTile(x, c.kv, table);
      EXPECT_TRUE(isTailBiting(expected, c.kv));
      for (SimdLevel level : supportedLevels()) {
        auto encoder = TcqEncoder::create(table, c.kv, level);
        QPAL_ASSERT_OK(encoder);
        TcqEncoder::Workspace workspace = encoder->makeWorkspace();
        std::vector<uint16_t> states(128);
        encoder->encodeTile(x.data(), states.data(), workspace);
        EXPECT_EQ(states, expected)
            << "KV " << c.kv << " " << stringifySimdLevel(level);
      }
    }
  }
}

/// A whole matrix: every tile is tail-biting, every SIMD level and thread
/// count gives the same states, the distortion is that of tcq_4, and the
/// packed codes decode exactly to the encoder's reconstruction.
TEST(Viterbi, MatrixEncode) {
  const int64_t rows = 64, cols = 64;
  const unsigned kv = 4;
  std::vector<float> weights(rows * cols);
  fillGaussian(weights.data(), rows * cols, 9);
  for (float &w : weights)
    w *= 0.9f;
  const TcqStateTable &table = **TcqStateTable::shipped(9);
  std::vector<uint16_t> reference;
  for (SimdLevel level : supportedLevels())
    for (unsigned threads : {1u, 2u}) {
      TcqEncodeOptions options;
      options.simd = level;
      options.threads = threads;
      auto states =
          encodeTcqStates(weights.data(), rows, cols, kv, table, options);
      QPAL_ASSERT_OK(states);
      if (reference.empty())
        reference = *states;
      EXPECT_EQ(*states, reference) << stringifySimdLevel(level);
    }
  for (size_t tile = 0; tile < 16; ++tile)
    EXPECT_TRUE(isTailBiting(
        llvm::ArrayRef<uint16_t>(reference).slice(tile * 128, 128), kv));

  auto hat = reconstructTcqStates(reference, rows, cols, table,
                                  CodebookPrecision::Fp32);
  QPAL_ASSERT_OK(hat);
  double error = 0, energy = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    error += std::pow(double(weights[i]) - (*hat)[i], 2);
    energy += double(weights[i]) * weights[i];
  }
  EXPECT_NEAR(error / energy / 0.0710, 1.0, 0.15);

  auto packed = encodeTcqKernelLayout(weights.data(), rows, cols, kv, table);
  QPAL_ASSERT_OK(packed);
  auto decoded = decodeTcqKernelLayout(*packed, rows, cols, kv, table,
                                       CodebookPrecision::Fp32);
  QPAL_ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, *hat);
}

TEST(Viterbi, RejectsBadInput) {
  const TcqStateTable &table = **TcqStateTable::shipped(9);
  std::vector<float> weights(32 * 32, 0.5f);
  QPAL_EXPECT_CONTAINS(
      errorOf(encodeTcqStates(weights.data(), 24, 32, 4, table)),
      "TCQ encoder: expects M divisible by 16, got 24");
  QPAL_EXPECT_CONTAINS(
      errorOf(encodeTcqStates(weights.data(), 32, 32, 12, table)),
      "TCQ encoder: expects KV in [2, 10], got 12");
  QPAL_EXPECT_CONTAINS(errorOf(encodeTcqStates(nullptr, 32, 32, 4, table)),
                       "null weight pointer");
  weights[33] = 70000.0f;
  QPAL_EXPECT_CONTAINS(
      errorOf(encodeTcqStates(weights.data(), 32, 32, 4, table)),
      "the normalized weight at (1, 1) is 70000, which is not finite in fp16");
  weights[33] = NAN;
  QPAL_EXPECT_CONTAINS(
      errorOf(encodeTcqStates(weights.data(), 32, 32, 4, table)),
      "at (1, 1) is nan");
  QPAL_EXPECT_CONTAINS(
      errorOf(encodeTcqKernelLayout(weights.data(), 16, 32, 4, table)),
      "expects M divisible by 32, got 16");
}

} // namespace
