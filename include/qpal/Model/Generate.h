//===- Generate.h - Text in, text out ---------------------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The few calls a driver needs to run a model on text: load everything from
// one path, and greedy generation from a prompt string.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_GENERATE_H
#define QPAL_MODEL_GENERATE_H

#include "qpal/Model/Evaluator.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"

#include <memory>
#include <string>

namespace qpal::model {

/// A model file with its tokenizer and an evaluator over it.
struct LoadedModel {
  /// The opened file (the evaluator holds its own copy of the weights).
  std::unique_ptr<ModelFile> file;
  /// The tokenizer embedded in the file.
  std::unique_ptr<Tokenizer> tokenizer;
  /// The evaluator.
  std::unique_ptr<Evaluator> evaluator;
};

/// Opens `path` (see `openModel`), builds its tokenizer and an evaluator.
llvm::Expected<LoadedModel> loadModel(llvm::StringRef path,
                                      const EvaluatorOptions &options = {});

/// The outcome of `generateText`.
struct GenerateResult {
  /// The prompt's token ids (BOS included when the model wants one).
  std::vector<int32_t> promptTokens;
  /// The generated token ids.
  std::vector<int32_t> tokens;
  /// The generated text (control tokens left out).
  std::string text;
  /// Seconds spent on the prompt (prefill) and on the new tokens (decode).
  double prefillSeconds = 0.0, decodeSeconds = 0.0;
  /// Bytes of the prompt that no token spells (dropped).
  size_t droppedBytes = 0;
};

/// Tokenizes `prompt` (with BOS if the tokenizer asks for one; control tokens
/// such as `<|im_start|>` written in the prompt are recognized) and appends
/// up to `maxNewTokens` greedy tokens, stopping after an end-of-sequence
/// token.
llvm::Expected<GenerateResult> generateText(Evaluator &evaluator,
                                            const Tokenizer &tokenizer,
                                            llvm::StringRef prompt,
                                            int64_t maxNewTokens);

} // namespace qpal::model

#endif // QPAL_MODEL_GENERATE_H
