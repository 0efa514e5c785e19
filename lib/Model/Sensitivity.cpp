//===- Sensitivity.cpp - Per-layer loss sensitivity by noise --------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Sensitivity.h"

#include "qpal/Quant/Random.h"

#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>

using namespace llvm;
using namespace qpal;
using namespace qpal::model;

std::vector<std::string> qpal::model::getLinearLayerKeys(int64_t numLayers) {
  static constexpr const char *kModules[] = {
      "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
      "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
      "mlp.down_proj"};
  std::vector<std::string> keys;
  for (int64_t block = 0; block < numLayers; ++block)
    for (const char *module : kModules)
      keys.push_back(formatv("{0}_{1}", block, module).str());
  return keys;
}

/// Mean NLL per scored token.
static Expected<double> meanLoss(Evaluator &evaluator, ArrayRef<int32_t> tokens,
                                 const PerplexityProtocol &protocol,
                                 int64_t *scored = nullptr) {
  Expected<PerplexityResult> result =
      evaluatePerplexity(evaluator, tokens, protocol);
  if (!result)
    return result.takeError();
  if (scored)
    *scored = result->tokensScored;
  return std::log(result->perplexity);
}

Expected<SensitivityResult> qpal::model::measureSensitivities(
    Evaluator &evaluator, ArrayRef<int32_t> tokens,
    const PerplexityProtocol &protocol, const SensitivityOptions &options,
    function_ref<void(StringRef, double)> progress) {
  if (!(options.relativeNoise > 0) || !std::isfinite(options.relativeNoise))
    return createStringError(formatv(
        "the relative noise must be positive, got {0}", options.relativeNoise));
  auto start = std::chrono::steady_clock::now();
  SensitivityResult result;
  Expected<double> baseline =
      meanLoss(evaluator, tokens, protocol, &result.tokens);
  if (!baseline)
    return baseline.takeError();
  result.baselineLoss = *baseline;

  std::vector<std::string> keys =
      getLinearLayerKeys(evaluator.getConfig().numLayers);
  for (auto [index, key] : llvm::enumerate(keys)) {
    Expected<LinearWeightView> view = evaluator.getLinearWeight(key);
    if (!view)
      return view.takeError();
    std::vector<float> original(view->values.begin(), view->values.end());
    double energy = 0;
    for (float w : original)
      energy += static_cast<double>(w) * w;
    energy /= original.size();
    // Noise scaled to the requested relative MSE exactly.
    std::vector<float> noise(original.size());
    fillGaussian(noise.data(), noise.size(), deriveSeed(options.seed, index));
    double noiseEnergy = 0;
    for (float n : noise)
      noiseEnergy += static_cast<double>(n) * n;
    noiseEnergy /= noise.size();
    double scale = std::sqrt(options.relativeNoise * energy / noiseEnergy);

    double increase = 0;
    for (double sign : {1.0, -1.0}) {
      for (size_t i = 0; i < original.size(); ++i)
        view->values[i] =
            static_cast<float>(original[i] + sign * scale * noise[i]);
      Expected<double> loss = meanLoss(evaluator, tokens, protocol);
      if (!loss) {
        llvm::copy(original, view->values.begin());
        return loss.takeError();
      }
      increase += (*loss - result.baselineLoss) / 2;
    }
    llvm::copy(original, view->values.begin());
    double coefficient = increase / options.relativeNoise;
    result.coefficients.emplace_back(key, coefficient);
    if (progress)
      progress(key, coefficient);
  }
  evaluator.resetCache();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}

json::Value qpal::model::toJson(const SensitivityResult &result,
                                const SensitivityOptions &options,
                                StringRef modelName, StringRef text) {
  json::Object coefficients;
  for (const auto &[key, value] : result.coefficients)
    coefficients[key] = value;
  return json::Object{
      {"description",
       "per-layer loss-sensitivity coefficients a_l: the increase of the mean "
       "NLL (nats per token) per unit of relative MSE injected into layer l "
       "alone, measured by qpal"},
      {"model", modelName},
      {"measurement",
       json::Object{{"method",
                     "Gaussian noise of relative MSE `relative_noise` in one "
                     "layer at a time, antithetic pair (+noise, -noise), "
                     "a_l = mean loss increase / relative_noise"},
                    {"relative_noise", options.relativeNoise},
                    {"seed", static_cast<int64_t>(options.seed)},
                    {"text", text},
                    {"tokens_scored", result.tokens},
                    {"baseline_loss", result.baselineLoss},
                    {"seconds", result.seconds}}},
      {"coefficients", std::move(coefficients)},
      {"constant", 0}};
}
