//===- Half.cpp - IEEE binary16 conversions -------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Half.h"

#include <cstring>

using namespace qpal;

uint16_t qpal::floatToHalfBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t magnitude = bits & 0x7FFFFFFFu;

  if (magnitude >= 0x7F800000u) // Infinity or NaN (NaN keeps a quiet bit).
    return sign | (magnitude > 0x7F800000u ? 0x7E00u : 0x7C00u);

  const int exponent = static_cast<int>(magnitude >> 23) - 127;
  if (exponent > 15)
    return sign | 0x7C00u;
  // Below half the smallest subnormal (2^-25, which ties to even zero).
  if (exponent < -25)
    return sign;

  const uint32_t mantissa = magnitude & 0x7FFFFFu;
  uint32_t half, remainder, halfway;
  if (exponent >= -14) {
    // Normal result: keep 10 of 23 mantissa bits. A carry out of the mantissa
    // correctly bumps the exponent, up to infinity (0x7C00).
    half = (static_cast<uint32_t>(exponent + 15) << 10) | (mantissa >> 13);
    remainder = mantissa & 0x1FFFu;
    halfway = 0x1000u;
  } else {
    // Subnormal result, in units of 2^-24: significand * 2^(exponent + 1).
    const uint32_t significand = mantissa | 0x800000u;
    const unsigned shift = static_cast<unsigned>(-exponent - 1); // 14..24
    half = significand >> shift;
    remainder = significand & ((1u << shift) - 1);
    halfway = 1u << (shift - 1);
  }
  if (remainder > halfway || (remainder == halfway && (half & 1u)))
    ++half;
  return static_cast<uint16_t>(sign | half);
}

float qpal::halfBitsToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  uint32_t mantissa = bits & 0x3FFu;
  uint32_t result;
  if (exponent == 0x1F) {
    result = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    result = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    result = sign;
  } else {
    // Subnormal: normalize the mantissa into a float exponent.
    int shift = 0;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3FFu;
    result =
        sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &result, sizeof(value));
  return value;
}
