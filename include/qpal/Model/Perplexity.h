//===- Perplexity.h - qpal's evaluation protocol ----------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The perplexity protocol every qpal number uses (the library default):
//
//   text   = shared/data/sotu/2010_*.txt .. 2021_*.txt, in file-name order,
//            joined with a blank line ("\n\n") between files;
//   tokens = the model's tokenization of the text, without BOS;
//   the first 8192 tokens are cut into non-overlapping windows of 512; each
//   window is evaluated from an empty KV cache and every token after the first
//   is scored given the tokens before it in its window;
//   perplexity = exp(mean negative log-likelihood).
//
// scripts/oracle/llamacpp_ppl.py computes the same with llama.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_PERPLEXITY_H
#define QPAL_MODEL_PERPLEXITY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qpal::model {

class Evaluator;
class Tokenizer;

/// The evaluation protocol's parameters; the defaults are the protocol.
struct PerplexityProtocol {
  /// The folder with the `<year>_<name>.txt` speeches; empty means
  /// `$QPAL_SHARED_DIR/data/sotu`.
  std::string textDir;
  /// The first year whose speech is included.
  int firstYear = 2010;
  /// The last year whose speech is included.
  int lastYear = 2021;
  /// How many tokens (from the start) are evaluated.
  int64_t maxTokens = 8192;
  /// The window length.
  int64_t window = 512;
  /// The distance between window starts (window = non-overlapping).
  int64_t stride = 512;
  /// Whether a BOS token starts the tokenization.
  bool addBos = false;
  /// Called after each window with the windows done and their total (a
  /// progress line), if set.
  std::function<void(int64_t done, int64_t total)> progress;
};

/// A perplexity measurement.
struct PerplexityResult {
  /// exp(mean NLL).
  double perplexity = 0.0;
  /// How many tokens were scored.
  int64_t tokensScored = 0;
  /// The wall-clock time of the evaluation (not of loading or tokenizing).
  double seconds = 0.0;
  /// The sum of NLLs of each window.
  std::vector<double> windowNll;
};

/// Returns the protocol's text: the speeches of `protocol.firstYear` ..
/// `protocol.lastYear` in `protocol.textDir`, in file-name order, joined by
/// "\n\n".
llvm::Expected<std::string>
loadProtocolText(const PerplexityProtocol &protocol = {});

/// Returns the protocol's token ids: the text tokenized by `tokenizer`
/// (BOS per `protocol.addBos`), cut to `protocol.maxTokens`.
llvm::Expected<std::vector<int32_t>>
loadProtocolTokens(const Tokenizer &tokenizer,
                   const PerplexityProtocol &protocol = {});

/// Evaluates perplexity of `tokens` with `evaluator`: windows of
/// `protocol.window` tokens every `protocol.stride` tokens (a trailing
/// partial window is dropped), each from an empty cache.
llvm::Expected<PerplexityResult>
evaluatePerplexity(Evaluator &evaluator, llvm::ArrayRef<int32_t> tokens,
                   const PerplexityProtocol &protocol = {});

/// Runs the whole protocol: loads and tokenizes the text, then evaluates.
llvm::Expected<PerplexityResult>
evaluateProtocolPerplexity(Evaluator &evaluator, const Tokenizer &tokenizer,
                           const PerplexityProtocol &protocol = {});

/// Returns the SHA-256 (hex) of `ids` written as little-endian int32, the
/// fingerprint the oracle JSON records.
std::string hashTokenIds(llvm::ArrayRef<int32_t> ids);

} // namespace qpal::model

#endif // QPAL_MODEL_PERPLEXITY_H
