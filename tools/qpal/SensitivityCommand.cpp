//===- SensitivityCommand.cpp - `qpal sensitivity`
//-------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Measures the per-layer loss sensitivities a_l of a model by noise injection
// (qpal/Model/Sensitivity.h) on calibration text disjoint from the
// evaluation text, and writes them in the reference's JSON format for
// `qpal allocate --sensitivity`. The output file is the cache: an existing
// one measured on the same model with the same settings is kept.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModelOptions.h"

#include "qpal/Model/Generate.h"
#include "qpal/Model/Sensitivity.h"
#include "qpal/Support/Json.h"
#include "qpal/Support/Limits.h"
#include "qpal/Support/OutputFile.h"
#include "qpal/Support/Progress.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qpal;

static cl::SubCommand sensitivityCommand(
    "sensitivity", "Measure per-layer loss sensitivities by noise injection");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::sub(sensitivityCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf | safetensors>"));
static cl::opt<std::string> outputPath("o", cl::sub(sensitivityCommand),
                                       cl::Required,
                                       cl::cat(driver::category()),
                                       cl::desc("Output JSON"),
                                       cl::value_desc("file"));
static cl::opt<double> noise("noise", cl::sub(sensitivityCommand),
                             cl::init(1e-2), cl::cat(driver::category()),
                             cl::desc("Relative MSE of the injected noise"));
static cl::opt<int64_t> tokens("tokens", cl::sub(sensitivityCommand),
                               cl::init(1024), cl::cat(driver::category()),
                               cl::desc("Calibration tokens"));
static cl::opt<int> firstYear("first-year", cl::sub(sensitivityCommand),
                              cl::init(2000), cl::cat(driver::category()),
                              cl::desc("Calibration text: State of the Union "
                                       "addresses from this year"));
static cl::opt<int> lastYear("last-year", cl::sub(sensitivityCommand),
                             cl::init(2009), cl::cat(driver::category()),
                             cl::desc("... to this year (the evaluation uses "
                                      "2010-2021)"));
static cl::opt<uint64_t> seed("seed", cl::sub(sensitivityCommand), cl::init(0),
                              cl::cat(driver::category()),
                              cl::desc("Seed of the noise"));
static cl::opt<unsigned> threads("threads", cl::sub(sensitivityCommand),
                                 cl::init(0), cl::cat(driver::category()),
                                 cl::desc("Worker threads (0: all)"));

static cl::opt<bool> quiet("quiet", cl::sub(sensitivityCommand),
                           cl::cat(driver::category()),
                           cl::desc("No progress line on a terminal"));
static cl::opt<bool> force("force", cl::sub(sensitivityCommand),
                           cl::cat(driver::category()),
                           cl::desc("Measure again even when -o already holds "
                                    "this model's sensitivities for the same "
                                    "settings"));

static constexpr StringLiteral kCommand = "sensitivity";

/// Whether `path` already holds sensitivities of `modelName` measured with
/// these settings (the cache: measuring takes minutes).
static bool isCached(StringRef path, StringRef modelName, StringRef text) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return false;
  Expected<json::Value> value =
      qpal::parseJsonBounded((*buffer)->getBuffer(), path);
  if (!value) {
    consumeError(value.takeError());
    return false;
  }
  const json::Object *object = value->getAsObject();
  const json::Object *measurement =
      object ? object->getObject("measurement") : nullptr;
  if (!measurement || !object->getObject("coefficients"))
    return false;
  return object->getString("model") == modelName &&
         measurement->getString("text") == text &&
         measurement->getNumber("relative_noise") == noise.getValue() &&
         measurement->getInteger("seed") ==
             static_cast<int64_t>(seed.getValue());
}

static int runSensitivity() {
  std::string modelName = sys::path::filename(modelPath).str();
  std::string text =
      formatv("State of the Union {0}-{1}, first {2} tokens, "
              "windows of 512",
              firstYear.getValue(), lastYear.getValue(), tokens.getValue());
  if (!force && isCached(outputPath, modelName, text)) {
    errs() << formatv("{0} already holds the sensitivities of {1} for these "
                      "settings; use --force to measure again\n",
                      outputPath.getValue(), modelName);
    return 0;
  }
  // Windows of 512 tokens: fewer than 513 measure nothing.
  if (Error err = checkBounds("--tokens", tokens, 513, int64_t{1} << 26))
    return driver::reportError(kCommand, toString(std::move(err)));
  if (Error err = checkOutputFile(outputPath))
    return driver::reportError(kCommand, toString(std::move(err)));
  model::EvaluatorOptions options;
  options.numThreads = threads;
  options.maxContext = 512;
  Expected<model::LoadedModel> loaded = model::loadModel(modelPath, options);
  if (!loaded)
    return driver::reportError(kCommand, toString(loaded.takeError()));
  model::PerplexityProtocol protocol;
  protocol.textDir = driver::getSharedDir() + "/data/sotu";
  protocol.firstYear = firstYear;
  protocol.lastYear = lastYear;
  protocol.maxTokens = tokens;
  Expected<std::vector<int32_t>> ids =
      model::loadProtocolTokens(*loaded->tokenizer, protocol);
  if (!ids)
    return driver::reportError(kCommand, toString(ids.takeError()));

  model::SensitivityOptions sensitivity;
  sensitivity.relativeNoise = noise;
  sensitivity.seed = seed;
  // Layers done/total, elapsed and ETA on a terminal; nothing on a pipe.
  ProgressLine progress("qpal sensitivity", quiet);
  int64_t done = 0,
          total = int64_t(model::getLinearLayerKeys(
                              loaded->evaluator->getConfig().numLayers)
                              .size());
  Expected<model::SensitivityResult> result = model::measureSensitivities(
      *loaded->evaluator, *ids, protocol, sensitivity,
      [&](StringRef key, double a) {
        progress.update(++done, total, "layers",
                        formatv("{0}: a = {1:e3}", key, a).str());
      });
  progress.finish();
  if (!result)
    return driver::reportError(kCommand, toString(result.takeError()));
  json::Value value = model::toJson(*result, sensitivity, modelName, text);
  if (Error err = writeOutputFile(outputPath, formatv("{0:2}\n", value).str()))
    return driver::reportError(kCommand, toString(std::move(err)));
  errs() << formatv("{0} coefficients written to {1} in {2:f0} s (baseline "
                    "loss {3:f4} nats/token over {4} tokens)\n",
                    result->coefficients.size(), outputPath.getValue(),
                    result->seconds, result->baselineLoss, result->tokens);
  return 0;
}

static driver::CommandRegistration registerSensitivity(sensitivityCommand,
                                                       runSensitivity);
