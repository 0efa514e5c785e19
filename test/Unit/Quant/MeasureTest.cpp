//===- MeasureTest.cpp - Distortion against quantizer_distortion.json -----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Measure.h"

#include "QuantTestUtil.h"

#include <cmath>
#include <cstdio>

using namespace qpal;
using namespace qpal::test;

namespace {

/// The reference's value for `name`, read from quantizer_distortion.json.
double referenceValue(const std::string &json, const std::string &name) {
  std::string key = "\"" + name + "\": ";
  size_t pos = json.find(key);
  EXPECT_NE(pos, std::string::npos) << key;
  return pos == std::string::npos
             ? NAN
             : std::strtod(json.c_str() + pos + key.size(), nullptr);
}

/// A few quantizers of each family on a 256 x 256 matrix land within 4% of
/// the reference's 4096 x 4096 measurement (the sampling noise of 65536
/// weights is about 1%).
TEST(Measure, ModestMatrixMatchesReference) {
  std::string json =
      readFile(sharedDir() + "/reference/data/quantizer_distortion.json");
  ASSERT_FALSE(json.empty());
  std::vector<QuantizerSpec> specs = {
      QuantizerSpec::tcq(3),         QuantizerSpec::tcq(6),
      QuantizerSpec::tcqSplit(6, 7), QuantizerSpec::sq(4),
      QuantizerSpec::vq(8),          QuantizerSpec::vq(12)};
  auto results = measurePalette(specs, 256, 256, /*seed=*/1, /*threads=*/0);
  QPAL_ASSERT_OK(results);
  ASSERT_EQ(results->size(), specs.size());
  for (const PaletteMeasurement &m : *results) {
    double reference = referenceValue(json, m.name);
    EXPECT_NEAR(m.normalizedMse / reference, 1.0, 0.04) << m.name;
    EXPECT_EQ(m.referenceMse, reference) << m.name;
    EXPECT_NEAR(m.relativeDifference, m.normalizedMse / reference - 1, 1e-15);
    EXPECT_DOUBLE_EQ(m.boundRatio,
                     m.normalizedMse / std::exp2(-2 * m.bitsPerWeight));
    EXPECT_GT(m.weightsPerSecond, 0);
  }
}

TEST(Measure, RejectsShapesTheQuantizerCannotPack) {
  QPAL_EXPECT_CONTAINS(
      errorOf(measurePalette({QuantizerSpec::tcq(4)}, 48, 64, 0, 1)),
      "expects M divisible by 32 for tcq_4_none_0.9, got 48");
}

/// What `qpal palette --measure --rows 1024 --cols 1024` reports: every
/// palette quantizer within 2% of the reference. Slow (about a minute on
/// two cores); run with --gtest_also_run_disabled_tests.
TEST(Measure, DISABLED_FullPalette1024) {
  std::string json =
      readFile(sharedDir() + "/reference/data/quantizer_distortion.json");
  std::vector<QuantizerSpec> palette = referencePalette();
  auto results = measurePalette(
      palette, 1024, 1024, /*seed=*/0, /*threads=*/0,
      [&](const PaletteMeasurement &m) {
        std::printf("%-26s %5.2f bpw  nmse %.6g  ref %.6g  diff %+6.2f%%  "
                    "%6.2f x bound  %.3g weights/s\n",
                    m.name.c_str(), m.bitsPerWeight, m.normalizedMse,
                    m.referenceMse, 100 * m.relativeDifference, m.boundRatio,
                    m.weightsPerSecond);
        std::fflush(stdout);
      });
  QPAL_ASSERT_OK(results);
  for (const PaletteMeasurement &m : *results)
    EXPECT_NEAR(m.normalizedMse / referenceValue(json, m.name), 1.0, 0.02)
        << m.name;
}

} // namespace
