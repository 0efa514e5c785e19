//===- ComputedTrellis.h - Trellis codes computed from the state -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The computed trellis codes (QTIP's 1MAD and 3INST, ../shared/reference/
// beyond.md section 2), extended to two weights per step (V = 2) so that
// they run at TCQ's rates (KV / 2 bits per weight) in TCQ's layouts. Each
// weight of a step is one evaluation of the code on a 32-bit word derived
// from the 16-bit state; no table is read. These functions are the
// reference the lowering's decode (TcqDecode.cpp) reproduces bit for bit.
//
// - 1MAD: x1 = s * 34038481 + 76625530, x2 = x1 * 1664525 + 1013904223
//   (mod 2^32); weight i = (sum of the four bytes of x_i - 510) / 128,
//   exact in fp16.
// - 3INST: x1 = s * 89226354 + 64248484, x2 = s * 3822763466 + 1013904223
//   (mod 2^32); x_i = (x_i & 0x8FFF8FFF) ^ 0x3B603B60; weight i = fp16(high
//   half) + fp16(low half), exact in fp32, rounded to fp16 for the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_COMPUTEDTRELLIS_H
#define QPAL_QUANT_COMPUTEDTRELLIS_H

#include "qpal/Quant/FormatEnums.h"
#include "qpal/Quant/Half.h"

#include <cstdint>
#include <utility>

namespace qpal {

/// The multiply-add constants of the two words of a step.
struct ComputedTrellisConstants {
  uint32_t mul1, add1;
  /// 1MAD: applied to x1; 3INST: applied to the state.
  uint32_t mul2, add2;
};

constexpr ComputedTrellisConstants kOneMadConstants = {34038481u, 76625530u,
                                                       1664525u, 1013904223u};
constexpr ComputedTrellisConstants kThreeInstConstants = {
    89226354u, 64248484u, 3822763466u, 1013904223u};
/// 3INST's mask and xor, applied to both halves of a word.
constexpr uint32_t kThreeInstMask = 0x8FFF8FFFu, kThreeInstXor = 0x3B603B60u;
/// 1MAD: a byte sum y in [0, 1020] gives (y - kOneMadBias) * kOneMadScale.
constexpr int32_t kOneMadBias = 510;
constexpr float kOneMadScale = 1.0f / 128.0f;

/// The two 32-bit words of `state`'s step.
inline std::pair<uint32_t, uint32_t> computedTrellisWords(TrellisCode code,
                                                          uint32_t state) {
  if (code == TrellisCode::OneMad) {
    uint32_t x1 = state * kOneMadConstants.mul1 + kOneMadConstants.add1;
    return {x1, x1 * kOneMadConstants.mul2 + kOneMadConstants.add2};
  }
  uint32_t x1 = state * kThreeInstConstants.mul1 + kThreeInstConstants.add1;
  uint32_t x2 = state * kThreeInstConstants.mul2 + kThreeInstConstants.add2;
  return {(x1 & kThreeInstMask) ^ kThreeInstXor,
          (x2 & kThreeInstMask) ^ kThreeInstXor};
}

/// One weight from one word, exactly (fp32).
inline float computedTrellisValue(TrellisCode code, uint32_t word) {
  if (code == TrellisCode::OneMad) {
    int32_t sum = static_cast<int32_t>((word & 0xFF) + ((word >> 8) & 0xFF) +
                                       ((word >> 16) & 0xFF) + (word >> 24));
    return static_cast<float>(sum - kOneMadBias) * kOneMadScale;
  }
  return halfBitsToFloat(static_cast<uint16_t>(word >> 16)) +
         halfBitsToFloat(static_cast<uint16_t>(word & 0xFFFF));
}

} // namespace qpal

#endif // QPAL_QUANT_COMPUTEDTRELLIS_H
