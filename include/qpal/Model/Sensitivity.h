//===- Sensitivity.h - Per-layer loss sensitivity by noise ------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The coefficients a_l of Q-Palette's linearity model, loss(Q) - loss(W) ~
// sum_l a_l * err_l (err = relative MSE of layer l), measured the way the
// reference's archive name suggests ("rnd"): inject Gaussian noise of a known
// relative MSE into one layer at a time and divide the loss increase by it.
// Each probe uses an antithetic pair (+noise, -noise), which cancels the
// first-order term of the loss change and leaves the curvature term the
// linearity model describes.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_SENSITIVITY_H
#define QPAL_MODEL_SENSITIVITY_H

#include "qpal/Model/Evaluator.h"
#include "qpal/Model/Perplexity.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <utility>
#include <vector>

namespace qpal::model {

struct SensitivityOptions {
  /// Relative MSE of the injected noise, mean(noise^2) / mean(W^2).
  double relativeNoise = 1e-2;
  /// Seed of the noise (one stream per layer).
  uint64_t seed = 0;
};

struct SensitivityResult {
  /// (layer key, a_l) in model order: blocks, then q k v o gate up down.
  std::vector<std::pair<std::string, double>> coefficients;
  /// Mean NLL (nats per token) of the unmodified model.
  double baselineLoss = 0;
  int64_t tokens = 0;
  double seconds = 0;
};

/// The reference's layer keys of a model with `numLayers` blocks, in order.
std::vector<std::string> getLinearLayerKeys(int64_t numLayers);

/// Measures a_l for every block linear of `evaluator` on `tokens`, scored in
/// the windows of `protocol`; `progress` sees each coefficient as it lands.
/// The evaluator's weights are restored before returning.
llvm::Expected<SensitivityResult> measureSensitivities(
    Evaluator &evaluator, llvm::ArrayRef<int32_t> tokens,
    const PerplexityProtocol &protocol, const SensitivityOptions &options,
    llvm::function_ref<void(llvm::StringRef, double)> progress = nullptr);

/// The result in the reference's format (`coefficients`: key -> a_l) with a
/// `measurement` object describing how it was obtained.
llvm::json::Value toJson(const SensitivityResult &result,
                         const SensitivityOptions &options,
                         llvm::StringRef modelName, llvm::StringRef text);

} // namespace qpal::model

#endif // QPAL_MODEL_SENSITIVITY_H
