//===- Measure.cpp - Data-free distortion of palette quantizers -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Measure.h"

#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/Random.h"

#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>

using namespace qpal;

llvm::Expected<std::vector<PaletteMeasurement>> qpal::measurePalette(
    llvm::ArrayRef<QuantizerSpec> specs, int64_t rows, int64_t cols,
    uint64_t seed, unsigned threads,
    llvm::function_ref<void(const PaletteMeasurement &)> onResult) {
  for (const QuantizerSpec &spec : specs) {
    if (auto err = spec.verify())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("invalid quantizer {0}: {1}", spec.referenceName(),
                        llvm::toString(std::move(err))));
    if (auto message = spec.checkShape(rows, cols))
      return llvm::createStringError(llvm::inconvertibleErrorCode(), *message);
  }

  const size_t count = static_cast<size_t>(rows * cols);
  std::vector<float> weights(count);
  fillGaussian(weights.data(), static_cast<int64_t>(count), seed);
  double energy = 0;
  for (float w : weights)
    energy += static_cast<double>(w) * w;

  std::vector<PaletteMeasurement> results;
  std::vector<float> scaled(count);
  for (const QuantizerSpec &spec : specs) {
    // The reference quantizes fp32(W * s) and divides the reconstruction by
    // s again; the normalized error is invariant to that common scale.
    const float s = static_cast<float>(spec.scale);
    for (size_t i = 0; i < count; ++i)
      scaled[i] = weights[i] * s;

    EncodeOptions options;
    options.threads = threads;
    auto start = std::chrono::steady_clock::now();
    auto codes = encodeNormalized(spec, scaled.data(), rows, cols, options);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (!codes)
      return codes.takeError();
    auto decoded =
        decodeNormalized(spec, *codes, rows, cols, CodebookPrecision::Fp32);
    if (!decoded)
      return decoded.takeError();

    double error = 0;
    for (size_t i = 0; i < count; ++i) {
      double diff = static_cast<double>(weights[i]) -
                    static_cast<double>((*decoded)[i]) / spec.scale;
      error += diff * diff;
    }

    PaletteMeasurement result;
    result.spec = spec;
    result.name = spec.referenceName();
    result.normalizedMse = error / energy;
    result.bitsPerWeight = spec.bitsPerWeight();
    result.boundRatio =
        result.normalizedMse / std::exp2(-2.0 * result.bitsPerWeight);
    result.referenceMse = spec.expectedDistortion();
    result.relativeDifference =
        result.normalizedMse / result.referenceMse - 1.0;
    result.encodeSeconds = seconds;
    result.weightsPerSecond =
        seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
    if (onResult)
      onResult(result);
    results.push_back(std::move(result));
  }
  return results;
}
