//===- EvalCommand.cpp - `qpal eval`
//---------------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Perplexity of a model on text, with its own weights or fake-quantized by a
// quantizer or an MSQ plan. The default text and windows are qpal's
// evaluation protocol (qpal/Model/Perplexity.h).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "KernelLinears.h"
#include "ModelOptions.h"

#include "qpal/Model/Generate.h"
#include "qpal/Model/Perplexity.h"
#include "qpal/Support/Progress.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <optional>

using namespace llvm;
using namespace qpal;

static cl::SubCommand evalCommand("eval",
                                  "Perplexity of a model on text (fp or "
                                  "fake-quantized)");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::sub(evalCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf | safetensors>"));
static cl::list<std::string>
    textFiles("text", cl::sub(evalCommand), cl::cat(driver::category()),
              cl::desc("Text files, joined by a blank line (default: the "
                       "protocol's State of the Union 2010-2021)"));
static cl::opt<int64_t> context("ctx", cl::sub(evalCommand), cl::init(512),
                                cl::cat(driver::category()),
                                cl::desc("Window of tokens scored together"));
static cl::opt<int64_t> maxTokens("max-tokens", cl::sub(evalCommand),
                                  cl::init(8192), cl::cat(driver::category()),
                                  cl::desc("Tokens evaluated from the start"));
static cl::opt<std::string>
    quantizer("quantizer", cl::sub(evalCommand), cl::cat(driver::category()),
              cl::desc("Fake-quantize every block linear with this "
                       "quantizer (reference name)"));
static cl::opt<std::string>
    planPath("plan", cl::sub(evalCommand), cl::cat(driver::category()),
             cl::desc("Fake-quantize by a plan (JSON: layer key -> "
                      "quantizer, or `qpal allocate --json` output)"));
static cl::opt<std::string> hessiansPath(
    "hessians", cl::sub(evalCommand), cl::cat(driver::category()),
    cl::desc("Calibration statistics (`qpal calibrate`) that the plan's "
             "'hess' quantizers round against"),
    cl::value_desc("file.qpalh"));
static cl::opt<unsigned> threads("threads", cl::sub(evalCommand), cl::init(0),
                                 cl::cat(driver::category()),
                                 cl::desc("Worker threads (0: all)"));
static cl::opt<uint64_t> seed("seed", cl::sub(evalCommand), cl::init(0),
                              cl::cat(driver::category()),
                              cl::desc("Seed of the rotations' sign vectors"));
static cl::opt<bool> kernels(
    "kernels", cl::sub(evalCommand), cl::cat(driver::category()),
    cl::desc("Run the quantized linears through qpal's generated CPU kernels "
             "(rotated activations, JIT-compiled dequant-matmul) instead of "
             "fake-quantized weights; needs --quantizer or --plan"));
static cl::opt<bool> emitJson("json", cl::sub(evalCommand),
                              cl::cat(driver::category()),
                              cl::desc("Print a JSON object"));
static cl::opt<bool> quiet("quiet", cl::sub(evalCommand),
                           cl::cat(driver::category()),
                           cl::desc("No progress line on a terminal"));

static constexpr StringLiteral kCommand = "eval";

static int runEval() {
  if (context < 2 || maxTokens < 2)
    return driver::reportError(
        kCommand, formatv("--ctx and --max-tokens must be at least 2, got {0} "
                          "and {1}",
                          context.getValue(), maxTokens.getValue()));
  Expected<std::optional<model::QuantPlan>> plan =
      driver::getQuantPlan(quantizer, planPath, modelPath);
  if (!plan)
    return driver::reportError(kCommand, toString(plan.takeError()));
  if (!hessiansPath.empty()) {
    if (!*plan)
      return driver::reportError(
          kCommand, "--hessians weights the rounding of quantized layers: "
                    "give --quantizer or --plan");
    Expected<model::HessianSet> hessians = model::readHessianFile(hessiansPath);
    if (!hessians)
      return driver::reportError(kCommand, toString(hessians.takeError()));
    (*plan)->hessians =
        std::make_shared<const model::HessianSet>(std::move(*hessians));
  }

  model::EvaluatorOptions options;
  options.numThreads = threads;
  options.maxContext = context;
  std::optional<driver::KernelLinears> linears;
  if (kernels) {
    if (!*plan)
      return driver::reportError(
          kCommand, "--kernels runs quantized linears: give --quantizer or "
                    "--plan");
    linears.emplace(**plan, seed, threads);
    options.linearProvider = linears->getProvider();
  }
  if (*plan) {
    // A plan that names `lm_head` quantizes the LM head too.
    options.transformLmHead = (*plan)->layers.count("lm_head") > 0;
    options.weightTransform =
        model::makeFakeQuantTransform(std::move(**plan), seed, threads);
  }
  auto loadStart = std::chrono::steady_clock::now();
  Expected<model::LoadedModel> loaded = model::loadModel(modelPath, options);
  if (!loaded)
    return driver::reportError(kCommand, toString(loaded.takeError()));
  double loadSeconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - loadStart)
                           .count();

  model::PerplexityProtocol protocol;
  protocol.textDir = driver::getSharedDir() + "/data/sotu";
  protocol.maxTokens = maxTokens;
  protocol.window = protocol.stride = context;
  std::vector<int32_t> tokens;
  std::string textName;
  if (textFiles.empty()) {
    Expected<std::vector<int32_t>> ids =
        model::loadProtocolTokens(*loaded->tokenizer, protocol);
    if (!ids)
      return driver::reportError(kCommand, toString(ids.takeError()));
    tokens = std::move(*ids);
    textName = formatv("State of the Union {0}-{1}", protocol.firstYear,
                       protocol.lastYear);
  } else {
    Expected<std::string> text = driver::readTextFiles(textFiles);
    if (!text)
      return driver::reportError(kCommand, toString(text.takeError()));
    size_t dropped = 0;
    tokens = loaded->tokenizer->encode(*text, protocol.addBos,
                                       /*parseSpecial=*/false, &dropped);
    if (static_cast<int64_t>(tokens.size()) > maxTokens)
      tokens.resize(maxTokens);
    textName = join(textFiles, ", ");
    driver::warnDroppedBytes(kCommand, dropped, textName);
  }
  ProgressLine progress("qpal eval", quiet);
  protocol.progress = [&](int64_t done, int64_t total) {
    progress.update(done, total, "windows");
  };
  Expected<model::PerplexityResult> result =
      model::evaluatePerplexity(*loaded->evaluator, tokens, protocol);
  progress.finish();
  if (!result)
    return driver::reportError(kCommand, toString(result.takeError()));

  std::string weights = driver::describeWeights(quantizer, planPath);
  if (!hessiansPath.empty())
    weights += " (rounded against the Hessians in " + hessiansPath + ")";
  std::string through = "fake-quantized weights";
  json::Object kernelFields;
  if (linears) {
    driver::KernelLinearsStats stats = linears->getStats();
    through = formatv("{0} of {1} linears through generated CPU kernels ({2} "
                      "kernels, compiled in {3:f1} s)",
                      stats.kernelLayers, stats.layers, stats.kernelsCompiled,
                      stats.compileSeconds);
    kernelFields = json::Object{{"kernel_layers", stats.kernelLayers},
                                {"layers", stats.layers},
                                {"kernels_compiled", stats.kernelsCompiled},
                                {"compile_seconds", stats.compileSeconds}};
  } else if (!*plan) {
    through = "float32 weights";
  }
  double tokensPerSecond = result->tokensScored / result->seconds;
  if (emitJson) {
    json::Object fields{
        {"model", modelPath.getValue()},
        {"weights", weights},
        {"linears", through},
        {"text", textName},
        {"perplexity", result->perplexity},
        {"tokens", result->tokensScored},
        {"windows", static_cast<int64_t>(result->windowNll.size())},
        {"context", context.getValue()},
        {"seconds", result->seconds},
        {"tokens_per_second", tokensPerSecond},
        {"load_seconds", loadSeconds}};
    for (auto &[key, value] : kernelFields)
      fields[key] = value;
    outs() << formatv("{0:2}", json::Value(std::move(fields))) << "\n";
    return 0;
  }
  outs() << formatv("{0}\n  weights: {1} ({10})\n  text: {2}\n  perplexity "
                    "{3:f4} over {4} tokens ({5} windows of {6}) in {7:f1} s "
                    "({8:f0} tokens/s); loading and quantizing took {9:f1} s\n",
                    modelPath.getValue(), weights, textName, result->perplexity,
                    result->tokensScored, result->windowNll.size(),
                    context.getValue(), result->seconds, tokensPerSecond,
                    loadSeconds, through);
  return 0;
}

static driver::CommandRegistration registerEval(evalCommand, runEval);
