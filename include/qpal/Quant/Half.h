//===- Half.h - IEEE binary16 conversions -----------------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Exact conversions between float and IEEE-754 binary16 ("fp16", "half"). The
// reference stores codebooks, per-row scales and sign vectors in fp16 and
// rounds TCQ targets to fp16 before the Viterbi search, so these conversions
// are part of the numeric contract: round to nearest, ties to even, with
// gradual underflow and overflow to infinity, like a CUDA `__float2half_rn`.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_HALF_H
#define QPAL_QUANT_HALF_H

#include <cstdint>

namespace qpal {

/// Returns the binary16 bit pattern nearest to `value` (ties to even).
/// Magnitudes of 65520 and above become infinity; NaN stays NaN.
uint16_t floatToHalfBits(float value);

/// Returns the float with the value of the binary16 bit pattern `bits`
/// (exact: every binary16 value is a float).
float halfBitsToFloat(uint16_t bits);

/// Rounds `value` to the nearest binary16 value and returns it as a float.
inline float roundToHalf(float value) {
  return halfBitsToFloat(floatToHalfBits(value));
}

/// The largest finite binary16 value.
constexpr float kHalfMax = 65504.0f;

} // namespace qpal

#endif // QPAL_QUANT_HALF_H
