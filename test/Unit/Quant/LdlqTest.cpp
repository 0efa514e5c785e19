//===- LdlqTest.cpp - Hessian-aware rounding ------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// LDLQ against independent references: with H = I it is the data-free
// encoder, code for code; the block LDL factors reconstruct H; the blocked
// BLAS implementation equals a plain column-by-column loop; and on random
// positive-definite Hessians it lowers the proxy loss against rounding each
// weight on its own.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Ldlq.h"
#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Quant/Trellis.h"
#include "qpal/Quant/Viterbi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qpal;

namespace {

std::vector<float> gaussian(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(count);
  for (float &v : values)
    v = normal(rng);
  return values;
}

/// A random positive-definite n x n matrix with strong correlations:
/// A A^T / k for an n x k Gaussian A (k < n), plus 1e-3 I.
std::vector<double> randomHessian(int64_t n, int64_t k, unsigned seed) {
  std::vector<float> a = gaussian(static_cast<size_t>(n * k), seed);
  std::vector<double> h(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t t = 0; t < k; ++t)
        sum += static_cast<double>(a[i * k + t]) * a[j * k + t];
      h[i * n + j] = sum / k + (i == j ? 1e-3 : 0.0);
    }
  return h;
}

std::vector<double> identity(int64_t n, double scale = 1.0) {
  std::vector<double> h(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    h[i * n + i] = scale;
  return h;
}

std::vector<float> decode(const std::vector<uint16_t> &codes,
                          const Codebook &codebook, size_t count) {
  std::vector<float> out(count);
  unsigned dim = codebook.dim();
  for (size_t v = 0; v < codes.size(); ++v)
    for (unsigned c = 0; c < dim; ++c)
      out[v * dim + c] = codebook.at(codes[v], c);
  return out;
}

const Codebook &codebookOf(const char *name) {
  auto spec = QuantizerSpec::parse(name);
  EXPECT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  auto codebook = shippedCodebook(*spec);
  EXPECT_TRUE(static_cast<bool>(codebook));
  return **codebook;
}

TEST(Ldlq, IdentityHessianReproducesTheDataFreeCodes) {
  for (const char *name :
       {"ldlq_1_2_none_1.0", "ldlq_1_4_none_1.0", "ldlq_1_8_none_1.0",
        "ldlq_2_6_none_1.0", "ldlq_2_9_none_1.0", "ldlq_2_12_none_1.0"}) {
    const Codebook &codebook = codebookOf(name);
    const int64_t rows = 24, cols = 64;
    std::vector<float> w = gaussian(rows * cols, 11);
    for (double scale : {1.0, 3.5}) {
      auto ldl = factorBlockLdl(identity(cols, scale), cols, codebook.dim());
      ASSERT_TRUE(static_cast<bool>(ldl)) << llvm::toString(ldl.takeError());
      auto expected = encodeLutCodes(w.data(), rows, cols, codebook, 1);
      auto got = encodeLutCodesLdlq(w.data(), rows, cols, codebook, *ldl);
      ASSERT_TRUE(static_cast<bool>(expected) && static_cast<bool>(got));
      EXPECT_EQ(*got, *expected) << name << " with H = " << scale << " I";
    }
  }
}

TEST(Ldlq, IdentityHessianLayerEqualsTheDataFreeLayer) {
  // Through quantizeLayer: rotation, row scales and packing (both layouts).
  const int64_t rows = 64, cols = 128;
  std::vector<float> w = gaussian(rows * cols, 5);
  std::vector<double> h = identity(cols, 0.25);
  for (const char *base :
       {"ldlq_1_4_%s_1.0", "ldlq_2_6_%s_1.0", "ldlq_1_3_%s_1.0:simt",
        "tcq_6_%s_0.9", "tcomb_6_7_0.5_%s_0.9"}) {
    char none[64], hess[64];
    std::snprintf(none, sizeof(none), base, "none");
    std::snprintf(hess, sizeof(hess), base, "hess");
    auto noneSpec = QuantizerSpec::parse(none);
    auto hessSpec = QuantizerSpec::parse(hess);
    ASSERT_TRUE(static_cast<bool>(noneSpec) && static_cast<bool>(hessSpec));
    EXPECT_TRUE(hessSpec->hessian);
    EXPECT_EQ(hessSpec->referenceName(), hess);
    QuantizeOptions options;
    options.seed = 3;
    auto plain = quantizeLayer(*noneSpec, w.data(), rows, cols, options);
    options.hessian = h;
    auto aware =
        quantizeLayerWithHessian(*hessSpec, w.data(), rows, cols, options);
    ASSERT_TRUE(static_cast<bool>(plain)) << llvm::toString(plain.takeError());
    ASSERT_TRUE(static_cast<bool>(aware)) << llvm::toString(aware.takeError());
    EXPECT_EQ(aware->codes, plain->codes) << hess;
    EXPECT_EQ(aware->scales, plain->scales) << hess;
  }
}

TEST(Ldlq, BlockLdlReconstructsTheHessian) {
  for (unsigned block : {1u, 2u, 16u}) {
    const int64_t n = 64;
    std::vector<double> h = randomHessian(n, 20, 40 + block);
    auto ldl = factorBlockLdl(h, n, block);
    ASSERT_TRUE(static_cast<bool>(ldl)) << llvm::toString(ldl.takeError());
    // Full L = stored L (strictly block-lower) + I.
    std::vector<double> l = ldl->lower;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        bool sameBlock = i / block == j / block;
        if (sameBlock)
          EXPECT_EQ(l[i * n + j], 0.0)
              << "diagonal block entry " << i << "," << j;
        if (j > i && !sameBlock)
          EXPECT_EQ(l[i * n + j], 0.0) << "upper entry " << i << "," << j;
      }
      l[i * n + i] = 1.0;
    }
    // L D L^T, with D block diagonal.
    double maxError = 0, maxValue = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t a = 0; a < n; ++a) {
          int64_t k0 = a / block * block;
          const double *d = ldl->diagonal.data() + (a / block) * block * block;
          for (int64_t b = k0; b < k0 + block; ++b)
            sum += l[i * n + a] * d[(a - k0) * block + (b - k0)] * l[j * n + b];
        }
        maxError = std::max(maxError, std::fabs(sum - h[i * n + j]));
        maxValue = std::max(maxValue, std::fabs(h[i * n + j]));
      }
    EXPECT_LT(maxError, 1e-10 * maxValue) << "block " << block;
  }
}

TEST(Ldlq, BlockedEqualsAPlainColumnLoop) {
  // The panels of BLAS products against the definition, column by column:
  // target_k = w_k + sum_{j > k} (w_j - w^_j) L[j][k].
  for (const char *name : {"ldlq_1_3_none_1.0", "ldlq_2_6_none_1.0"}) {
    const Codebook &codebook = codebookOf(name);
    unsigned dim = codebook.dim();
    const int64_t rows = 5, cols = 320; // three panels of up to 128
    std::vector<float> w = gaussian(rows * cols, 17);
    std::vector<double> h = randomHessian(cols, 40, 23);
    regularizeHessian(h, cols);
    auto ldl = factorBlockLdl(h, cols, dim);
    ASSERT_TRUE(static_cast<bool>(ldl));
    auto got = encodeLutCodesLdlq(w.data(), rows, cols, codebook, *ldl);
    ASSERT_TRUE(static_cast<bool>(got));
    auto search = NearestCodeword::create(codebook);
    ASSERT_TRUE(static_cast<bool>(search));
    std::vector<uint16_t> expected(rows * cols / dim);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> error(cols, 0.0);
      for (int64_t k0 = cols - dim; k0 >= 0; k0 -= dim) {
        double target[2];
        for (unsigned c = 0; c < dim; ++c) {
          double sum = w[r * cols + k0 + c];
          for (int64_t j = k0 + dim; j < cols; ++j)
            sum += error[j] * ldl->lower[j * cols + k0 + c];
          target[c] = sum;
        }
        uint32_t code = search->find(target);
        expected[r * (cols / dim) + k0 / dim] = static_cast<uint16_t>(code);
        for (unsigned c = 0; c < dim; ++c)
          error[k0 + c] =
              static_cast<double>(w[r * cols + k0 + c]) - codebook.at(code, c);
      }
    }
    // Summation order differs (BLAS panels): allow a rare tie flip.
    size_t differ = 0;
    for (size_t i = 0; i < expected.size(); ++i)
      differ += expected[i] != (*got)[i];
    EXPECT_LE(differ, expected.size() / 1000) << name;
  }
}

/// Decoded trellis states (fp32 reconstruction) of a rows x cols weight.
std::vector<float> decodeStates(const std::vector<uint16_t> &states,
                                int64_t rows, int64_t cols,
                                const TcqStateTable &table) {
  auto values =
      reconstructTcqStates(states, rows, cols, table, CodebookPrecision::Fp32);
  EXPECT_TRUE(static_cast<bool>(values));
  return values ? *values : std::vector<float>();
}

TEST(Ldlq, TrellisEqualsAPlainStripLoop) {
  // BlockLDLQ for TCQ against the definition: strip by strip from the last,
  // the targets summed column by column, each strip Viterbi-encoded alone.
  auto table = TcqStateTable::shipped(9);
  ASSERT_TRUE(static_cast<bool>(table));
  const int64_t rows = 32, cols = 160, tile = 16;
  const unsigned kv = 4;
  std::vector<float> w = gaussian(rows * cols, 31);
  std::vector<double> h = randomHessian(cols, 40, 37);
  regularizeHessian(h, cols);
  auto ldl = factorBlockLdl(h, cols, tile);
  ASSERT_TRUE(static_cast<bool>(ldl));
  auto got = encodeTcqStatesLdlq(
      w.data(), rows, cols, [&](int64_t) { return kv; }, **table, *ldl);
  ASSERT_TRUE(static_cast<bool>(got)) << llvm::toString(got.takeError());
  std::vector<double> error(rows * cols, 0.0);
  std::vector<uint16_t> expected(got->size());
  const int64_t tilesPerRow = cols / tile;
  for (int64_t k0 = cols - tile; k0 >= 0; k0 -= tile) {
    std::vector<float> strip(rows * tile);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < tile; ++c) {
        double sum = w[r * cols + k0 + c];
        for (int64_t j = k0 + tile; j < cols; ++j)
          sum += error[r * cols + j] * ldl->lower[j * cols + k0 + c];
        strip[r * tile + c] = static_cast<float>(sum);
      }
    auto states = encodeTcqStates(strip.data(), rows, tile, kv, **table);
    ASSERT_TRUE(static_cast<bool>(states));
    std::vector<float> decoded = decodeStates(*states, rows, tile, **table);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < tile; ++c)
        error[r * cols + k0 + c] =
            static_cast<double>(w[r * cols + k0 + c]) - decoded[r * tile + c];
    for (int64_t t = 0; t < rows / tile; ++t)
      std::copy_n(states->begin() + t * kTcqStepsPerTile, kTcqStepsPerTile,
                  expected.begin() +
                      (t * tilesPerRow + k0 / tile) * kTcqStepsPerTile);
  }
  // Summation order differs (BLAS panels): allow a rare different path.
  size_t differ = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    differ += expected[i] != (*got)[i];
  EXPECT_LE(differ, expected.size() / 100);
}

TEST(Ldlq, TrellisLowersTheProxyLoss) {
  auto table = TcqStateTable::shipped(9);
  ASSERT_TRUE(static_cast<bool>(table));
  for (unsigned kv : {2u, 4u, 6u}) {
    for (unsigned seed = 0; seed < 4; ++seed) {
      const int64_t rows = 32, cols = 128;
      std::vector<float> w = gaussian(rows * cols, 300 + seed);
      std::vector<double> h = randomHessian(cols, 24, 400 + seed);
      auto ldl = factorBlockLdl(h, cols, 16);
      ASSERT_TRUE(static_cast<bool>(ldl));
      auto plain = encodeTcqStates(w.data(), rows, cols, kv, **table);
      auto aware = encodeTcqStatesLdlq(
          w.data(), rows, cols, [&](int64_t) { return kv; }, **table, *ldl);
      ASSERT_TRUE(static_cast<bool>(plain) && static_cast<bool>(aware));
      double plainLoss =
          proxyLoss(w.data(), decodeStates(*plain, rows, cols, **table).data(),
                    rows, cols, h);
      double awareLoss =
          proxyLoss(w.data(), decodeStates(*aware, rows, cols, **table).data(),
                    rows, cols, h);
      EXPECT_LT(awareLoss, 0.8 * plainLoss)
          << "KV " << kv << " seed " << seed << ": " << awareLoss << " against "
          << plainLoss;
    }
  }
}

TEST(Ldlq, LowersTheProxyLossOnRandomHessians) {
  for (const char *name : {"ldlq_1_2_none_1.0", "ldlq_1_4_none_1.0",
                           "ldlq_2_6_none_1.0", "ldlq_2_9_none_1.0"}) {
    const Codebook &codebook = codebookOf(name);
    for (unsigned seed = 0; seed < 8; ++seed) {
      const int64_t rows = 16, cols = 128;
      std::vector<float> w = gaussian(rows * cols, 100 + seed);
      std::vector<double> h = randomHessian(cols, 24, 200 + seed);
      auto ldl = factorBlockLdl(h, cols, codebook.dim());
      ASSERT_TRUE(static_cast<bool>(ldl));
      auto plain = encodeLutCodes(w.data(), rows, cols, codebook, 1);
      auto aware = encodeLutCodesLdlq(w.data(), rows, cols, codebook, *ldl);
      ASSERT_TRUE(static_cast<bool>(plain) && static_cast<bool>(aware));
      double plainLoss = proxyLoss(
          w.data(), decode(*plain, codebook, w.size()).data(), rows, cols, h);
      double awareLoss = proxyLoss(
          w.data(), decode(*aware, codebook, w.size()).data(), rows, cols, h);
      EXPECT_LT(awareLoss, 0.8 * plainLoss)
          << name << " seed " << seed << ": " << awareLoss << " against "
          << plainLoss;
    }
  }
}

TEST(Ldlq, RotatedHessianIsTheRotatedInputsSecondMoment) {
  // R H R^T against the second moment of explicitly rotated samples.
  const int64_t n = 48, samples = 200;
  auto transform = HadamardTransform::create(n);
  ASSERT_TRUE(static_cast<bool>(transform));
  std::vector<float> x = gaussian(samples * n, 9);
  std::vector<float> signs(n);
  for (int64_t i = 0; i < n; ++i)
    signs[i] = (i * 7 % 3) ? 1.0f : -1.0f;
  std::vector<double> h(n * n, 0.0), hr(n * n, 0.0), row(n), scratch(n);
  for (int64_t s = 0; s < samples; ++s) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        h[i * n + j] += static_cast<double>(x[s * n + i]) * x[s * n + j];
    for (int64_t i = 0; i < n; ++i)
      row[i] = signs[i] * static_cast<double>(x[s * n + i]);
    transform->apply(row.data(), scratch.data());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        hr[i * n + j] += row[i] * row[j];
  }
  std::vector<double> rotated = rotateHessian(h, n, signs, *transform);
  for (int64_t i = 0; i < n * n; ++i)
    EXPECT_NEAR(rotated[i], hr[i], 1e-9 * samples) << i;
}

TEST(Ldlq, RefusesWhatItCannotFactor) {
  const int64_t n = 8;
  std::vector<double> h = identity(n);
  h[3 * n + 3] = -1.0;
  auto ldl = factorBlockLdl(h, n, 1);
  ASSERT_FALSE(static_cast<bool>(ldl));
  EXPECT_NE(llvm::toString(ldl.takeError())
                .find("the Hessian is not positive definite (the leading "
                      "minor of order 4 is not positive)"),
            std::string::npos);
  auto odd = factorBlockLdl(identity(n), n, 3);
  ASSERT_FALSE(static_cast<bool>(odd));
  EXPECT_NE(llvm::toString(odd.takeError())
                .find("must be a positive multiple of the block 3"),
            std::string::npos);

  // A hess quantizer without a Hessian, or with one of the wrong size.
  auto spec = QuantizerSpec::parse("ldlq_1_4_hess_1.0");
  ASSERT_TRUE(static_cast<bool>(spec));
  std::vector<float> w = gaussian(32 * 32, 1);
  auto missing = quantizeLayerWithHessian(*spec, w.data(), 32, 32, {});
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(
      llvm::toString(missing.takeError()).find("expects 32 x 32 values, got 0"),
      std::string::npos);
  QuantizeOptions options;
  std::vector<double> bad = identity(32);
  bad[5] = std::nan("");
  options.hessian = bad;
  auto nan = quantizeLayerWithHessian(*spec, w.data(), 32, 32, options);
  ASSERT_FALSE(static_cast<bool>(nan));
  EXPECT_NE(llvm::toString(nan.takeError()).find("non-finite"),
            std::string::npos);
  // quantizeLayer sends hess quantizers to quantizeLayerWithHessian.
  auto direct = quantizeLayer(*spec, w.data(), 32, 32, options);
  ASSERT_FALSE(static_cast<bool>(direct));
  EXPECT_NE(llvm::toString(direct.takeError())
                .find("quantize it with quantizeLayerWithHessian"),
            std::string::npos);
}

/// measureProxyError against plain float64 loops: tr(E H E^T) summed
/// entry by entry, the weight's output energy, and the isotropic noise of
/// the same proxy loss; with H = c I the error is the relative MSE.
TEST(Ldlq, ProxyErrorIsTheWeightedLoss) {
  const int64_t rows = 12, cols = 24;
  for (unsigned seed = 0; seed < 4; ++seed) {
    std::vector<float> w = gaussian(rows * cols, 700 + seed);
    std::vector<float> noise = gaussian(rows * cols, 800 + seed);
    std::vector<float> q(w.size());
    for (size_t i = 0; i < w.size(); ++i)
      q[i] = w[i] + 0.05f * noise[i];
    std::vector<double> h = randomHessian(cols, 6, 900 + seed);
    double proxy = 0, output = 0, weight = 0, error = 0, trace = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < cols; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          double ei = double(w[r * cols + i]) - double(q[r * cols + i]);
          double ej = double(w[r * cols + j]) - double(q[r * cols + j]);
          proxy += ei * h[i * cols + j] * ej;
          output += double(w[r * cols + i]) * h[i * cols + j] *
                    double(w[r * cols + j]);
        }
    for (size_t i = 0; i < w.size(); ++i) {
      weight += double(w[i]) * w[i];
      error += (double(w[i]) - q[i]) * (double(w[i]) - q[i]);
    }
    for (int64_t i = 0; i < cols; ++i)
      trace += h[i * cols + i];
    auto measured = measureProxyError(w.data(), q.data(), rows, cols, h);
    ASSERT_TRUE(static_cast<bool>(measured))
        << llvm::toString(measured.takeError());
    EXPECT_NEAR(measured->relativeProxy, proxy / output,
                1e-12 * proxy / output);
    EXPECT_NEAR(measured->error, proxy * cols / (weight * trace),
                1e-12 * proxy * cols / (weight * trace));
    EXPECT_NEAR(measured->relativeMse, error / weight, 1e-12 * error / weight);
    // Correlated inputs make the structured error cost more or less than
    // isotropic noise; with H = 3 I it costs exactly its MSE.
    auto isotropic =
        measureProxyError(w.data(), q.data(), rows, cols, identity(cols, 3.0));
    ASSERT_TRUE(static_cast<bool>(isotropic));
    EXPECT_NEAR(isotropic->error, error / weight, 1e-12 * error / weight);
  }
  // What has no relative error is refused, naming why.
  std::vector<float> zeros(rows * cols, 0.0f), ones(rows * cols, 1.0f);
  auto zeroWeight =
      measureProxyError(zeros.data(), ones.data(), rows, cols, identity(cols));
  ASSERT_FALSE(static_cast<bool>(zeroWeight));
  EXPECT_EQ(llvm::toString(zeroWeight.takeError()),
            "proxy error: the weight is all zeros");
  auto zeroTrace = measureProxyError(ones.data(), zeros.data(), rows, cols,
                                     identity(cols, 0.0));
  ASSERT_FALSE(static_cast<bool>(zeroTrace));
  EXPECT_EQ(llvm::toString(zeroTrace.takeError()),
            "proxy error: H has a zero trace (no input energy)");
  auto wrongSize =
      measureProxyError(ones.data(), zeros.data(), rows, cols, identity(8));
  ASSERT_FALSE(static_cast<bool>(wrongSize));
  EXPECT_EQ(llvm::toString(wrongSize.takeError()),
            "proxy error: H must be 24 x 24 (the weight's columns), got 64 "
            "values");
}

} // namespace
