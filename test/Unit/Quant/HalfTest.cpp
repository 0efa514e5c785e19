//===- HalfTest.cpp - fp16 conversions against APFloat --------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Half.h"
#include "qpal/Quant/Random.h"

#include "llvm/ADT/APFloat.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>

using namespace qpal;

namespace {

/// The independent reference: LLVM's software IEEE arithmetic.
uint16_t apfloatHalfBits(float value) {
  llvm::APFloat converted(value);
  bool losesInfo;
  converted.convert(llvm::APFloat::IEEEhalf(),
                    llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  return static_cast<uint16_t>(converted.bitcastToAPInt().getZExtValue());
}

float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// Every binary16 value converts to float exactly and back to itself.
TEST(Half, EveryHalfRoundTrips) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float value = halfBitsToFloat(static_cast<uint16_t>(bits));
    llvm::APFloat reference(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits));
    if (reference.isNaN()) {
      EXPECT_TRUE(std::isnan(value)) << bits;
      continue;
    }
    EXPECT_EQ(value, reference.convertToFloat()) << bits;
    EXPECT_EQ(floatToHalfBits(value), bits) << bits;
  }
}

/// Midpoints between neighbouring halves (ties), their float neighbours,
/// and random bit patterns round like APFloat's round-to-nearest-even.
TEST(Half, RoundingMatchesApFloat) {
  for (uint32_t bits = 0; bits < 0x7C00; ++bits) {
    double low = halfBitsToFloat(static_cast<uint16_t>(bits));
    double high = halfBitsToFloat(static_cast<uint16_t>(bits + 1));
    float middle = static_cast<float>((low + high) / 2); // exact in float
    for (float value : {middle, std::nextafter(middle, 0.0f),
                        std::nextafter(middle, 1e30f), -middle}) {
      ASSERT_EQ(floatToHalfBits(value), apfloatHalfBits(value)) << value;
    }
  }
  SplitMix64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    float value = bitsToFloat(static_cast<uint32_t>(rng.next()));
    if (std::isnan(value))
      continue;
    ASSERT_EQ(floatToHalfBits(value), apfloatHalfBits(value)) << value;
  }
}

/// Boundary values: overflow to infinity from 65520 up, underflow to zero
/// at 2^-25 (a tie to even zero), and NaN.
TEST(Half, Boundaries) {
  EXPECT_EQ(floatToHalfBits(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToHalfBits(65519.99f), 0x7BFF);
  EXPECT_EQ(floatToHalfBits(65520.0f), 0x7C00);
  EXPECT_EQ(floatToHalfBits(-1e9f), 0xFC00);
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(floatToHalfBits(std::nextafter(std::ldexp(1.0f, -25), 1.0f)),
            0x0001);
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToHalfBits(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(roundToHalf(NAN)));
  EXPECT_EQ(roundToHalf(0.1f), 0.0999755859375f);
}

} // namespace
