//===- Measure.h - Data-free distortion of palette quantizers ---*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Re-measures the reference's `quantizer_distortion.json` (its `measurement`
// object; quantizers.md, section 7): one rows x cols matrix W of i.i.d.
// N(0, 1) values (SplitMix64 stream of `seed`, the same W for every
// quantizer), no rotation, Wscale = 1, identity Hessian; the quantizer is
// applied to W s (s = the spec's scale: 0.9 for TCQ, 1.0 for VQ/SQ), the
// result decoded with the fp32 codebook from the packed codes, and
//
//   normalized MSE = mean((W - W_hat)^2) / mean(W^2)
//
// with W_hat = decode(encode(W s)) / s, accumulated in float64.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_MEASURE_H
#define QPAL_QUANT_MEASURE_H

#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qpal {

/// The measured distortion of one quantizer.
struct PaletteMeasurement {
  /// The quantizer measured.
  QuantizerSpec spec;
  /// `spec.referenceName()`.
  std::string name;
  /// mean((W - W_hat)^2) / mean(W^2).
  double normalizedMse = 0;
  /// Code bits per weight.
  double bitsPerWeight = 0;
  /// normalizedMse / 2^(-2 bitsPerWeight): the gap to the Gaussian
  /// distortion-rate bound.
  double boundRatio = 0;
  /// `spec.expectedDistortion()` (the reference's value for its palette).
  double referenceMse = 0;
  /// normalizedMse / referenceMse - 1.
  double relativeDifference = 0;
  /// Wall-clock seconds of the encoder (encode and pack, no decode).
  double encodeSeconds = 0;
  /// rows * cols / encodeSeconds.
  double weightsPerSecond = 0;
};

/// Measures each quantizer of `specs` on one seeded rows x cols Gaussian
/// matrix with `threads` workers (0 = all hardware threads). `onResult`,
/// when given, is called after each quantizer (for progress output). Fails
/// when a spec cannot pack a rows x cols matrix.
llvm::Expected<std::vector<PaletteMeasurement>> measurePalette(
    llvm::ArrayRef<QuantizerSpec> specs, int64_t rows, int64_t cols,
    uint64_t seed, unsigned threads,
    llvm::function_ref<void(const PaletteMeasurement &)> onResult = nullptr);

} // namespace qpal

#endif // QPAL_QUANT_MEASURE_H
