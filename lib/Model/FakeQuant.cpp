//===- FakeQuant.cpp - Quantize a model's weights in place ----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/FakeQuant.h"

#include "qpal/Model/Sensitivity.h"
#include "qpal/Support/Json.h"

#include "qpal/Quant/Ldlq.h"
#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/Random.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace llvm;
using namespace qpal;
using namespace qpal::model;

Expected<QuantizerSpec> QuantPlan::lookup(StringRef layerKey) const {
  auto it = layers.find(layerKey);
  if (it != layers.end())
    return it->second;
  if (uniform)
    return *uniform;
  return createStringError(
      formatv("the plan has no quantizer for layer '{0}'", layerKey));
}

Error qpal::model::checkPlanLayers(const QuantPlan &plan, int64_t numLayers) {
  std::vector<std::string> keys = getLinearLayerKeys(numLayers);
  for (const auto &entry : plan.layers) {
    StringRef key = entry.getKey();
    if (key == "lm_head" || llvm::is_contained(keys, key))
      continue;
    return createStringError(formatv(
        "the plan names layer '{0}', which a model of {1} blocks does not "
        "have (keys are '<block>_self_attn.{{q,k,v,o}_proj' and "
        "'<block>_mlp.{{gate,up,down}_proj' for blocks 0..{2}, and "
        "'lm_head')",
        key, numLayers, numLayers - 1));
  }
  return Error::success();
}

Expected<QuantPlan> qpal::model::loadQuantPlan(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return createStringError(buffer.getError(), "cannot read plan '%s': %s",
                             path.str().c_str(),
                             buffer.getError().message().c_str());
  return parseQuantPlan((*buffer)->getBuffer(), path);
}

Expected<QuantPlan> qpal::model::parseQuantPlan(StringRef text,
                                                StringRef path) {
  Expected<json::Value> value =
      qpal::parseJsonBounded(text, formatv("plan '{0}'", path).str());
  if (!value)
    return value.takeError();
  const json::Object *object = value->getAsObject();
  if (object)
    if (const json::Object *inner = object->getObject("plan"))
      object = inner;
  if (!object)
    return createStringError(
        formatv("plan '{0}' must be a JSON object mapping layer keys to "
                "quantizer names",
                path));
  QuantPlan plan;
  for (const auto &[key, entry] : *object) {
    std::optional<StringRef> name = entry.getAsString();
    if (!name)
      return createStringError(
          formatv("plan '{0}': the quantizer of '{1}' must be a string", path,
                  key.str()));
    Expected<QuantizerSpec> spec = QuantizerSpec::parse(*name);
    if (!spec)
      return createStringError(formatv("plan '{0}', layer '{1}': {2}", path,
                                       key.str(), toString(spec.takeError())));
    plan.layers[key.str()] = *spec;
  }
  if (plan.layers.empty())
    return createStringError(formatv("plan '{0}' names no layer", path));
  return plan;
}

/// The rotation domain of a layer: q/k/v share one, gate/up another.
static unsigned rotationDomain(StringRef module) {
  if (module.starts_with("self_attn.") && !module.contains("o_proj"))
    return 0;
  if (module == "self_attn.o_proj")
    return 1;
  if (module == "mlp.down_proj")
    return 3;
  return 2;
}

Expected<QuantizedLayer> qpal::model::quantizeBlockLinear(
    const QuantPlan &plan, uint64_t seed, unsigned threads, StringRef layerKey,
    const float *weights, int64_t rows, int64_t cols) {
  Expected<QuantizerSpec> spec = plan.lookup(layerKey);
  if (!spec)
    return spec.takeError();
  QuantizeOptions options;
  options.threads = threads;
  options.seed = getBlockLinearSeed(seed, layerKey);
  if (spec->hessian) {
    if (!plan.hessians)
      return llvm::createStringError(
          llvm::formatv("layer '{0}' uses '{1}', which rounds against the "
                        "layer's input Hessian: pass a calibration file "
                        "(--hessians FILE, from `qpal calibrate`)",
                        layerKey, spec->referenceName()));
    Expected<llvm::ArrayRef<double>> hessian =
        plan.hessians->secondMomentFor(layerKey, cols);
    if (!hessian)
      return hessian.takeError();
    options.hessian = *hessian;
  }
  return quantizeLayerWithHessian(*spec, weights, rows, cols, options);
}

Expected<ProxyError> qpal::model::measureBlockLinearError(
    const QuantPlan &plan, uint64_t seed, unsigned threads, StringRef layerKey,
    const float *weights, int64_t rows, int64_t cols) {
  if (!plan.hessians)
    return createStringError(formatv(
        "measuring the error of layer '{0}' needs the calibration statistics "
        "of its input (--hessians FILE, from `qpal calibrate`)",
        layerKey));
  Expected<ArrayRef<double>> hessian =
      plan.hessians->secondMomentFor(layerKey, cols);
  if (!hessian)
    return hessian.takeError();
  Expected<QuantizedLayer> layer =
      quantizeBlockLinear(plan, seed, threads, layerKey, weights, rows, cols);
  if (!layer)
    return layer.takeError();
  Expected<std::vector<float>> decoded = dequantizeLayer(*layer);
  if (!decoded)
    return decoded.takeError();
  Expected<ProxyError> error =
      measureProxyError(weights, decoded->data(), rows, cols, *hessian);
  if (!error)
    return createStringError(
        formatv("layer '{0}': {1}", layerKey, toString(error.takeError())));
  return *error;
}

uint64_t qpal::model::getBlockLinearSeed(uint64_t seed, StringRef layerKey) {
  auto [blockText, module] = layerKey.split('_');
  uint64_t block = 0;
  blockText.getAsInteger(10, block);
  return deriveSeed(deriveSeed(seed, block), rotationDomain(module));
}

WeightTransform qpal::model::makeFakeQuantTransform(QuantPlan plan,
                                                    uint64_t seed,
                                                    unsigned threads) {
  return [plan = std::move(plan), seed,
          threads](StringRef layerKey, int64_t rows, int64_t cols,
                   std::vector<float> &weights) -> Error {
    Expected<QuantizedLayer> layer = quantizeBlockLinear(
        plan, seed, threads, layerKey, weights.data(), rows, cols);
    if (!layer)
      return layer.takeError();
    Expected<std::vector<float>> decoded = dequantizeLayer(*layer);
    if (!decoded)
      return decoded.takeError();
    weights = std::move(*decoded);
    return Error::success();
  };
}
