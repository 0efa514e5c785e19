//===- KernelCaseTest.cpp - Seeded kernel cases and their reference -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/KernelCase.h"
#include "qpal/Quant/Half.h"
#include "qpal/Quant/Reference.h"

#include "QuantTestUtil.h"

#include <cmath>

using namespace qpal;
using namespace qpal::test;

namespace {

/// The case's product is lib/Quant's reference matmul of the same codes
/// (an unrotated layer with unit row scales), times the case's row scales.
TEST(KernelCase, ProductIsTheReferenceMatmul) {
  for (const char *name :
       {"tcq_6_none_0.9", "tcomb_6_7_0.5_none_0.9", "ldlq_2_8_none_1.0",
        "ldlq_1_4_none_1.0", "ldlq_1_3_none_1.0:simt"}) {
    auto spec = QuantizerSpec::parse(name);
    QPAL_ASSERT_OK(spec);
    int64_t rows = 64, cols = 128, batch = 3;
    auto data = makeKernelCase(*spec, rows, cols, batch, /*seed=*/7,
                               /*withReference=*/true, /*threads=*/2);
    QPAL_ASSERT_OK(data);
    ASSERT_EQ(data->codes.size(), spec->codeBytes(rows, cols)) << name;
    QuantizedLayer layer;
    layer.spec = *spec;
    layer.rows = rows;
    layer.cols = cols;
    layer.codes = data->codes;
    layer.scales.assign(rows, floatToHalfBits(1.0f));
    std::vector<double> x(data->x.begin(), data->x.end());
    auto y = referenceMatmul(layer, x, batch);
    QPAL_ASSERT_OK(y);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t m = 0; m < rows; ++m) {
        double expected = (*y)[n * rows + m] * data->scales[m];
        EXPECT_NEAR(data->product[n * rows + m], expected,
                    1e-12 * (1 + std::abs(expected)))
            << name << " n " << n << " m " << m;
      }
  }
}

/// Cases are seeded: the same seed draws the same data, another seed other
/// data; scales lie in [0.5, 1.5) and nothing is zero-filled.
TEST(KernelCase, SeededAndNeverZero) {
  auto spec = QuantizerSpec::parse("tcq_8_none_0.9");
  QPAL_ASSERT_OK(spec);
  auto a = makeKernelCase(*spec, 32, 64, 2, 1, false);
  auto b = makeKernelCase(*spec, 32, 64, 2, 1, false);
  auto c = makeKernelCase(*spec, 32, 64, 2, 2, false);
  QPAL_ASSERT_OK(a);
  QPAL_ASSERT_OK(b);
  QPAL_ASSERT_OK(c);
  EXPECT_EQ(a->codes, b->codes);
  EXPECT_EQ(a->x, b->x);
  EXPECT_NE(a->codes, c->codes);
  EXPECT_TRUE(a->product.empty());
  for (float s : a->scales) {
    EXPECT_GE(s, 0.5f);
    EXPECT_LT(s, 1.5f);
  }
  int zeros = 0;
  for (float v : a->x)
    zeros += v == 0.0f;
  for (float v : a->y0)
    zeros += v == 0.0f;
  EXPECT_EQ(zeros, 0);
}

/// The error is relative to the product; an exact result scores 0, a NaN
/// never passes, and bad sizes are refused by name.
TEST(KernelCase, RelativeErrorAndBadSizes) {
  auto spec = QuantizerSpec::parse("ldlq_2_6_none_1.0");
  QPAL_ASSERT_OK(spec);
  auto data = makeKernelCase(*spec, 32, 64, 1, 3, true);
  QPAL_ASSERT_OK(data);
  std::vector<float> y(data->y0.size());
  for (size_t i = 0; i < y.size(); ++i)
    y[i] = static_cast<float>(data->y0[i] + data->product[i]);
  EXPECT_LT(maxRelativeError(*data, y), 1e-6);
  double scale = 0;
  for (double p : data->product)
    scale = std::max(scale, std::abs(p));
  y[5] += static_cast<float>(0.01 * scale);
  EXPECT_NEAR(maxRelativeError(*data, y), 0.01, 1e-4);
  y[7] = std::nanf("");
  EXPECT_TRUE(std::isnan(maxRelativeError(*data, y)));
  QPAL_EXPECT_CONTAINS(errorOf(makeKernelCase(*spec, 0, 64, 1, 1, false)),
                       "a kernel case needs positive rows, columns and batch, "
                       "got 0 x 64, batch 1");
}

} // namespace
