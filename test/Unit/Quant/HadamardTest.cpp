//===- HadamardTest.cpp - RHT against a dense float64 reference -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/Random.h"

#include "QuantTestUtil.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace qpal;
using namespace qpal::test;

namespace {

/// Every stored matrix is +-1 and orthogonal: H H^T = K I, exactly.
TEST(Hadamard, SmallMatricesAreHadamard) {
  std::vector<unsigned> orders = supportedHadamardOrders();
  // 1 and every order of the reference's list.
  EXPECT_TRUE(hasHadamardMatrix(1));
  for (unsigned order : referenceHadamardOrders())
    EXPECT_TRUE(hasHadamardMatrix(order)) << order;
  EXPECT_EQ(orders.size(), 13u);
  EXPECT_FALSE(hasHadamardMatrix(44));
  for (unsigned order : orders) {
    auto matrix = hadamardMatrix(order);
    QPAL_ASSERT_OK(matrix);
    ASSERT_EQ(matrix->size(), static_cast<size_t>(order) * order);
    for (int8_t entry : *matrix)
      ASSERT_TRUE(entry == 1 || entry == -1) << order;
    for (unsigned i = 0; i < order; ++i)
      for (unsigned j = 0; j < order; ++j) {
        int dot = 0;
        for (unsigned c = 0; c < order; ++c)
          dot += (*matrix)[i * order + c] * (*matrix)[j * order + c];
        ASSERT_EQ(dot, i == j ? static_cast<int>(order) : 0)
            << "order " << order << " rows " << i << ", " << j;
      }
  }
}

/// Orders 12 and 28 are the reference's tables, as printed in
/// quantizers.md section 3.2 (read from the document itself).
TEST(Hadamard, ReferenceTablesMatchTheSpec) {
  std::string spec = readFile(sharedDir() + "/reference/quantizers.md");
  ASSERT_FALSE(spec.empty());
  for (unsigned order : {12u, 28u}) {
    std::string anchor = "| Row | `get_had" + std::to_string(order) + "` |";
    size_t pos = spec.find(anchor);
    ASSERT_NE(pos, std::string::npos) << anchor;
    auto matrix = hadamardMatrix(order);
    QPAL_ASSERT_OK(matrix);
    for (unsigned row = 0; row < order; ++row) {
      std::string prefix = "\n| " + std::to_string(row) + " | `";
      pos = spec.find(prefix, pos);
      ASSERT_NE(pos, std::string::npos);
      std::string text = spec.substr(pos + prefix.size(), order);
      for (unsigned col = 0; col < order; ++col)
        EXPECT_EQ((*matrix)[row * order + col], text[col] == '+' ? 1 : -1)
            << "order " << order << " row " << row << " col " << col;
    }
  }
}

/// Sizes factor like the reference: the first K of its list that divides n.
TEST(Hadamard, Factorisation) {
  struct Case {
    int64_t n;
    unsigned k;
    int64_t m;
  } cases[] = {{1, 1, 1},      {4096, 1, 4096}, {14336, 28, 512},
               {576, 36, 16},  {1536, 12, 128}, {3072, 12, 256},
               {960, 60, 16},  {2240, 140, 16}, {1984, 124, 16},
               {3328, 52, 64}, {1728, 108, 16}, {640, 20, 32}};
  for (const Case &c : cases) {
    auto factors = factorHadamardSize(c.n);
    QPAL_ASSERT_OK(factors);
    EXPECT_EQ(factors->smallOrder, c.k) << c.n;
    EXPECT_EQ(factors->powerOfTwo, c.m) << c.n;
  }
}

TEST(Hadamard, RejectsUnsupportedSizes) {
  struct Case {
    int64_t n;
    const char *message;
  } cases[] = {
      {6, "unsupported Hadamard size n = 6: expects a power of two or K"},
      {100, "n = 100: the reference pairs it with K = 20, but n / 20 = 5"},
      {0, "unsupported Hadamard size n = 0"},
      {-8, "unsupported Hadamard size n = -8"},
      {2064, "n = 2064: the reference pairs it with K = 172, but n / 172 = 12"},
  };
  for (const Case &c : cases) {
    std::string message = errorOf(HadamardTransform::create(c.n));
    QPAL_EXPECT_CONTAINS(message, c.message);
  }
  QPAL_EXPECT_CONTAINS(errorOf(hadamardMatrix(44)),
                       "no Hadamard matrix of order 44");
}

/// The dense RHT matrix straight from the definition in quantizers.md 3.2:
/// R[a' M + b'][a M + b] = n^-1/2 Hk[a][a'] (-1)^popcount(b & b').
std::vector<double> denseRht(int64_t n, unsigned k) {
  int64_t m = n / k;
  llvm::ArrayRef<int8_t> hk = *hadamardMatrix(k);
  std::vector<double> dense(static_cast<size_t>(n * n));
  double scale = 1.0 / std::sqrt(static_cast<double>(n));
  for (unsigned a2 = 0; a2 < k; ++a2)
    for (int64_t b2 = 0; b2 < m; ++b2)
      for (unsigned a = 0; a < k; ++a)
        for (int64_t b = 0; b < m; ++b) {
          int sign = llvm::popcount(static_cast<uint64_t>(b & b2)) % 2 ? -1 : 1;
          dense[(a2 * m + b2) * n + a * m + b] = scale * hk[a * k + a2] * sign;
        }
  return dense;
}

/// For every supported order K, at sizes K, 2K and 8K: the dense matrix is
/// orthogonal within 1e-9 (up to n = 300), and the fast transform (and its
/// transpose) agrees with the dense product in float64 and, loosely, in
/// float32.
TEST(Hadamard, FastMatchesDenseForEveryOrder) {
  for (unsigned order : supportedHadamardOrders()) {
    for (int64_t multiple : {1, 2, 8}) {
      int64_t n = order * multiple;
      if (order == 1)
        n = 64 * multiple;
      auto transform = HadamardTransform::create(n);
      QPAL_ASSERT_OK(transform);
      ASSERT_EQ(transform->smallOrder(), order == 1 ? 1u : order) << n;
      std::vector<double> dense = denseRht(n, transform->smallOrder());
      // R R^T = I (the O(n^3) check on the smaller sizes).
      for (int64_t i = 0; i < n && n <= 300; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < n; ++c)
            dot += dense[i * n + c] * dense[j * n + c];
          ASSERT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-9) << n;
        }
      std::vector<double> x(n);
      SplitMix64 rng(static_cast<uint64_t>(n));
      for (double &v : x)
        v = rng.gaussian();
      std::vector<double> forward = x, backward = x, scratch(n);
      transform->apply(forward.data(), scratch.data());
      transform->applyTranspose(backward.data(), scratch.data());
      std::vector<float> single(x.begin(), x.end()), singleScratch(n);
      transform->apply(single.data(), singleScratch.data());
      for (int64_t i = 0; i < n; ++i) {
        double y = 0, yt = 0;
        for (int64_t c = 0; c < n; ++c) {
          y += dense[i * n + c] * x[c];
          yt += dense[c * n + i] * x[c];
        }
        ASSERT_NEAR(forward[i], y, 1e-12) << n << " " << i;
        ASSERT_NEAR(backward[i], yt, 1e-12) << n << " " << i;
        ASSERT_NEAR(single[i], y, 1e-5) << n << " " << i;
      }
    }
  }
}

/// The transform of a large size is its own inverse up to the transpose.
TEST(Hadamard, TransposeInverts) {
  for (int64_t n : {14336, 1536, 576}) {
    auto transform = HadamardTransform::create(n);
    QPAL_ASSERT_OK(transform);
    std::vector<double> x(n);
    SplitMix64 rng(7);
    for (double &v : x)
      v = rng.gaussian();
    std::vector<double> y = x;
    transform->apply(y);
    double norm = 0, rotatedNorm = 0;
    for (int64_t i = 0; i < n; ++i) {
      norm += x[i] * x[i];
      rotatedNorm += y[i] * y[i];
    }
    EXPECT_NEAR(rotatedNorm / norm, 1.0, 1e-12);
    transform->applyTranspose(y);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(y[i], x[i], 1e-12);
  }
}

/// Sign vectors are +-1, balanced, and reproducible from the seed.
TEST(Hadamard, RandomSigns) {
  std::vector<float> signs = randomSigns(4096, 0);
  EXPECT_EQ(signs, randomSigns(4096, 0));
  EXPECT_NE(signs, randomSigns(4096, 1));
  int sum = 0;
  for (float s : signs) {
    ASSERT_TRUE(s == 1.0f || s == -1.0f);
    sum += static_cast<int>(s);
  }
  EXPECT_LT(std::abs(sum), 4 * 64); // 4 standard deviations
  // The first SplitMix64(0) output is 0xE220A8397B1DCDAF: top bit set.
  EXPECT_EQ(signs[0], -1.0f);
}

} // namespace
