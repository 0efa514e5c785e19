//===- LayerErrorsCommand.cpp - `qpal layer-errors` -----------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Measures, for a few quantizers, every block linear's error against its
// calibration Hessian (qpal/Alloc/LayerErrors.h): each layer is quantized as
// `qpal eval` and `qpal compile` quantize it (same rotation seed, LDLQ for
// `hess` quantizers) and compared with the original through the layer
// input's second moment. `qpal allocate --layer-errors` (and `qpal compile`,
// `-qpal-allocate-bits`) read the file and model the quantizers it does not
// list.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "qpal/Model/Calibration.h"
#include "qpal/Model/FakeQuant.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Support/OutputFile.h"
#include "qpal/Support/Progress.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <map>

using namespace llvm;
using namespace qpal;

static cl::SubCommand
    layerErrorsCommand("layer-errors",
                       "Measure every layer's error against its calibration "
                       "Hessian for a few quantizers (for MSQ)");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::sub(layerErrorsCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf | safetensors>"));
static cl::opt<std::string>
    hessiansPath("hessians", cl::sub(layerErrorsCommand), cl::Required,
                 cl::cat(driver::category()),
                 cl::desc("Calibration statistics (`qpal calibrate`)"),
                 cl::value_desc("file.qpalh"));
static cl::list<std::string> quantizerNames(
    "quantizer", cl::sub(layerErrorsCommand), cl::OneOrMore, cl::CommaSeparated,
    cl::cat(driver::category()),
    cl::desc("Quantizers to measure (comma-separated or repeated), e.g. "
             "tcq_4_hess_0.9,tcq_6_hess_0.9,tcq_8_hess_0.9"),
    cl::value_desc("names"));
static cl::opt<std::string> outputPath("o", cl::sub(layerErrorsCommand),
                                       cl::Required,
                                       cl::cat(driver::category()),
                                       cl::desc("Output JSON"),
                                       cl::value_desc("file"));
static cl::opt<uint64_t> seed("seed", cl::sub(layerErrorsCommand), cl::init(0),
                              cl::cat(driver::category()),
                              cl::desc("Rotation seed (as `qpal compile "
                                       "--seed`)"));
static cl::opt<unsigned> threads("threads", cl::sub(layerErrorsCommand),
                                 cl::init(0), cl::cat(driver::category()),
                                 cl::desc("Worker threads (0: all)"));
static cl::opt<bool> quiet("quiet", cl::sub(layerErrorsCommand),
                           cl::cat(driver::category()),
                           cl::desc("No progress line on a terminal"));

static constexpr StringLiteral kCommand = "layer-errors";

static int fail(const Twine &message) {
  return driver::reportError(kCommand, message);
}

static int runLayerErrors() {
  std::vector<QuantizerSpec> quantizers;
  for (const std::string &name : quantizerNames) {
    Expected<QuantizerSpec> quantizer = QuantizerSpec::parse(name);
    if (!quantizer)
      return fail(toString(quantizer.takeError()));
    if (quantizer->family == QuantizerFamily::F16)
      return fail("f16 is not quantized: name quantizers with an error to "
                  "measure");
    QuantizerSpec canonical = *quantizer;
    canonical.kernel = KernelKind::TensorCore;
    if (llvm::any_of(quantizers, [&](QuantizerSpec other) {
          other.kernel = KernelKind::TensorCore;
          return other == canonical;
        }))
      return fail(formatv("quantizer '{0}' is named twice", name));
    quantizers.push_back(*quantizer);
  }
  if (Error err = checkOutputFile(outputPath))
    return fail(toString(std::move(err)));

  Expected<std::unique_ptr<model::ModelFile>> file =
      model::openModel(modelPath);
  if (!file)
    return fail(toString(file.takeError()));
  const model::ModelConfig &config = (*file)->getConfig();
  Expected<model::HessianSet> hessians = model::readHessianFile(hessiansPath);
  if (!hessians)
    return fail(toString(hessians.takeError()));
  auto hessianSet =
      std::make_shared<const model::HessianSet>(std::move(*hessians));
  struct Layer {
    std::string key, weightName;
    int64_t rows = 0, cols = 0;
  };
  std::vector<Layer> layerList;
  for (int64_t block = 0; block < config.numLayers; ++block)
    for (StringRef projection : model::getLlamaLinearProjections()) {
      Layer layer;
      layer.key = formatv("{0}_{1}", block, projection).str();
      layer.weightName = model::getLinearWeightName(block, projection);
      layerList.push_back(std::move(layer));
    }
  // Every weight and input is there, of the right width, and storable
  // before minutes of encoding.
  for (Layer &layer : layerList) {
    const model::TensorInfo *tensor = (*file)->lookupTensor(layer.weightName);
    if (!tensor || tensor->shape.size() != 2)
      return fail(formatv("model '{0}' has no 2-D weight for layer '{1}'",
                          modelPath.getValue(), layer.key));
    layer.rows = tensor->shape[0];
    layer.cols = tensor->shape[1];
    Expected<ArrayRef<double>> hessian =
        hessianSet->secondMomentFor(layer.key, layer.cols);
    if (!hessian)
      return fail(formatv("'{0}': {1}", hessiansPath.getValue(),
                          toString(hessian.takeError())));
  }
  // A quantizer must store some layer; the layers it cannot store are
  // recorded as such (a plan keeps them in another quantizer or f16).
  for (const QuantizerSpec &quantizer : quantizers)
    if (llvm::all_of(layerList, [&](const Layer &layer) {
          return quantizer.checkShape(layer.rows, layer.cols).has_value();
        }))
      return fail(
          formatv("'{0}' cannot store any layer of '{1}': {2}",
                  quantizer.referenceName(), modelPath.getValue(),
                  *quantizer.checkShape(layerList[0].rows, layerList[0].cols)));

  ProgressLine progress("qpal layer-errors", quiet);
  int64_t total = static_cast<int64_t>(layerList.size() * quantizers.size());
  int64_t done = 0;
  json::Object layers, summary, seconds;
  for (const QuantizerSpec &quantizer : quantizers) {
    std::string name = quantizer.referenceName();
    model::QuantPlan plan;
    plan.uniform = quantizer;
    plan.hessians = hessianSet;
    json::Object perLayer;
    double sum = 0, low = 0, high = 0;
    int64_t storable = 0;
    auto started = std::chrono::steady_clock::now();
    for (const Layer &layer : layerList) {
      if (std::optional<std::string> shapeError =
              quantizer.checkShape(layer.rows, layer.cols)) {
        perLayer[layer.key] = json::Object{{"unstorable", *shapeError}};
        progress.update(++done, total, "layers", name);
        continue;
      }
      Expected<std::vector<float>> weights = (*file)->read(layer.weightName);
      if (!weights)
        return fail(toString(weights.takeError()));
      Expected<ProxyError> error = model::measureBlockLinearError(
          plan, seed, threads, layer.key, weights->data(), layer.rows,
          layer.cols);
      if (!error)
        return fail(toString(error.takeError()));
      perLayer[layer.key] =
          json::Object{{"error", error->error},
                       {"relative_proxy", error->relativeProxy},
                       {"relative_mse", error->relativeMse}};
      sum += error->error;
      low = storable++ == 0 ? error->error : std::min(low, error->error);
      high = std::max(high, error->error);
      progress.update(++done, total, "layers", name);
    }
    seconds[name] = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    summary[name] =
        json::Object{{"gaussian_error", quantizer.expectedDistortion()},
                     {"mean_error", sum / static_cast<double>(storable)},
                     {"layers_measured", storable},
                     {"min_error", low},
                     {"max_error", high}};
    layers[name] = std::move(perLayer);
  }
  progress.finish();

  json::Object root{
      {"format", "qpal-layer-errors"},
      {"version", 1},
      {"model", sys::path::filename(modelPath.getValue())},
      {"hessians", sys::path::filename(hessiansPath.getValue())},
      {"seed", static_cast<int64_t>(seed.getValue())},
      {"definition",
       "error = tr(dW H dW^T) * cols / (||W||_F^2 tr(H)), the relative MSE "
       "of isotropic noise with the same proxy loss; relative_proxy = "
       "tr(dW H dW^T) / tr(W H W^T); relative_mse = ||dW||_F^2 / ||W||_F^2; "
       "H = E[x x^T] of the layer's input; a layer the quantizer's layout "
       "cannot store is 'unstorable'"},
      {"summary", std::move(summary)},
      {"encode_seconds", std::move(seconds)},
      {"layers", std::move(layers)}};
  if (Error err = writeOutputFile(outputPath, [&](raw_pwrite_stream &os) {
        os << formatv("{0:2}", json::Value(std::move(root))) << "\n";
        return Error::success();
      }))
    return fail(toString(std::move(err)));
  if (!quiet)
    errs() << formatv("{0} quantizers x {1} layers measured in {2:f1} s, "
                      "written to {3}\n",
                      quantizers.size(), layerList.size(),
                      progress.elapsedSeconds(), outputPath.getValue());
  return 0;
}

static driver::CommandRegistration registerLayerErrors(layerErrorsCommand,
                                                       runLayerErrors);
