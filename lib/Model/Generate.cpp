//===- Generate.cpp - Text in, text out -----------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Generate.h"

#include <algorithm>
#include <chrono>

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;

Expected<LoadedModel> qpal::model::loadModel(llvm::StringRef path,
                                             const EvaluatorOptions &options) {
  LoadedModel loaded;
  Expected<std::unique_ptr<ModelFile>> file = openModel(path);
  if (!file)
    return file.takeError();
  loaded.file = std::move(*file);
  Expected<std::unique_ptr<Tokenizer>> tokenizer = loadTokenizer(*loaded.file);
  if (!tokenizer)
    return tokenizer.takeError();
  loaded.tokenizer = std::move(*tokenizer);
  Expected<std::unique_ptr<Evaluator>> evaluator =
      Evaluator::create(*loaded.file, options);
  if (!evaluator)
    return evaluator.takeError();
  loaded.evaluator = std::move(*evaluator);
  return std::move(loaded);
}

Expected<GenerateResult> qpal::model::generateText(Evaluator &evaluator,
                                                   const Tokenizer &tokenizer,
                                                   llvm::StringRef prompt,
                                                   int64_t maxNewTokens) {
  using Clock = std::chrono::steady_clock;
  GenerateResult result;
  result.promptTokens =
      tokenizer.encode(prompt, tokenizer.getAddBos(), /*parseSpecial=*/true,
                       &result.droppedBytes);
  if (result.promptTokens.empty())
    return llvm::createStringError("the prompt is empty");
  if (static_cast<int64_t>(result.promptTokens.size()) >=
      evaluator.getMaxContext())
    return llvm::createStringError("the prompt's " +
                                   llvm::Twine(result.promptTokens.size()) +
                                   " tokens fill the context of " +
                                   llvm::Twine(evaluator.getMaxContext()));
  std::vector<int32_t> stops;
  if (std::optional<int32_t> eos = tokenizer.getEosToken())
    stops.push_back(*eos);

  evaluator.resetCache();
  std::vector<float> logits;
  auto start = Clock::now();
  if (Error err = evaluator.forward(result.promptTokens, &logits,
                                    /*allLogits=*/false))
    return std::move(err);
  auto prefilled = Clock::now();
  while (static_cast<int64_t>(result.tokens.size()) < maxNewTokens) {
    int32_t next = static_cast<int32_t>(
        std::max_element(logits.begin(), logits.end()) - logits.begin());
    result.tokens.push_back(next);
    if (llvm::is_contained(stops, next) ||
        static_cast<int64_t>(result.tokens.size()) >= maxNewTokens ||
        evaluator.getCacheLength() >= evaluator.getMaxContext())
      break;
    if (Error err = evaluator.forward(next, &logits, /*allLogits=*/false))
      return std::move(err);
  }
  auto done = Clock::now();
  result.prefillSeconds =
      std::chrono::duration<double>(prefilled - start).count();
  result.decodeSeconds =
      std::chrono::duration<double>(done - prefilled).count();
  result.text = tokenizer.decode(result.tokens);
  return result;
}
