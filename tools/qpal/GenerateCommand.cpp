//===- GenerateCommand.cpp - `qpal generate`
//-------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Greedy decoding with the reference evaluator, with the model's own weights
// or fake-quantized ones: a quick look at what quantization does to text.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModelOptions.h"

#include "qpal/Model/Generate.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qpal;

static cl::SubCommand generateCommand("generate",
                                      "Greedy-decode text from a prompt");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::sub(generateCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf | safetensors>"));
static cl::opt<std::string> prompt("prompt", cl::sub(generateCommand),
                                   cl::Required, cl::cat(driver::category()),
                                   cl::desc("The prompt (control tokens such "
                                            "as <|im_start|> are parsed)"));
static cl::opt<int64_t> newTokens("n", cl::sub(generateCommand), cl::init(64),
                                  cl::cat(driver::category()),
                                  cl::desc("Tokens to generate at most"));
static cl::opt<std::string>
    quantizer("quantizer", cl::sub(generateCommand),
              cl::cat(driver::category()),
              cl::desc("Fake-quantize every block linear with this quantizer"));
static cl::opt<std::string>
    planPath("plan", cl::sub(generateCommand), cl::cat(driver::category()),
             cl::desc("Fake-quantize by a plan (JSON)"));
static cl::opt<unsigned> threads("threads", cl::sub(generateCommand),
                                 cl::init(0), cl::cat(driver::category()),
                                 cl::desc("Worker threads (0: all)"));

static int runGenerate() {
  if (newTokens < 1)
    return driver::reportError(
        "generate",
        formatv("-n must be positive, got {0}", newTokens.getValue()));
  Expected<std::optional<model::QuantPlan>> plan =
      driver::getQuantPlan(quantizer, planPath, modelPath);
  if (!plan)
    return driver::reportError("generate", toString(plan.takeError()));
  model::EvaluatorOptions options;
  options.numThreads = threads;
  if (*plan) {
    // A plan that names `lm_head` quantizes the LM head too.
    options.transformLmHead = (*plan)->layers.count("lm_head") > 0;
    options.weightTransform =
        model::makeFakeQuantTransform(std::move(**plan), 0, threads);
  }
  Expected<model::LoadedModel> loaded = model::loadModel(modelPath, options);
  if (!loaded)
    return driver::reportError("generate", toString(loaded.takeError()));
  Expected<model::GenerateResult> result = model::generateText(
      *loaded->evaluator, *loaded->tokenizer, prompt, newTokens);
  if (!result)
    return driver::reportError("generate", toString(result.takeError()));
  driver::warnDroppedBytes("generate", result->droppedBytes, "the prompt");
  outs() << result->text << "\n";
  errs() << formatv("[{0} prompt tokens in {1:f2} s, {2} new tokens in "
                    "{3:f2} s; weights: {4}]\n",
                    result->promptTokens.size(), result->prefillSeconds,
                    result->tokens.size(), result->decodeSeconds,
                    driver::describeWeights(quantizer, planPath));
  return 0;
}

static driver::CommandRegistration registerGenerate(generateCommand,
                                                    runGenerate);
