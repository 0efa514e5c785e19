//===- Evaluate.h - Generation and perplexity on the runtime ----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// What `qpal-run` and the Python bindings (python/) share: the sampler of
// `qpal generate` and the perplexity protocol of `qpal eval`
// (Evaluator::scoreSequence), on a runtime session. No MLIR, no LLVM.
// Failures throw `qpalrun::Error` with the runtime's message.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_RUNTIME_TOOLS_EVALUATE_H
#define QPAL_RUNTIME_TOOLS_EVALUATE_H

#include "qpalrt.h"

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace qpalrun {

/// A runtime failure, with the runtime's message.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Throws `Error` with qpalrtGetLastError() unless `status` is success.
void check(qpalrtStatus status);

/// Picks the next token: the first largest logit at temperature 0 (as `qpal
/// generate`), else a draw from the softmax at `temperature`, cut to the
/// most likely tokens whose probabilities reach `topP`.
class Sampler {
public:
  Sampler(double temperature, double topP, uint64_t seed)
      : temperature(temperature), topP(topP), engine(seed) {}
  int32_t next(const std::vector<float> &logits);

private:
  double temperature, topP;
  std::mt19937_64 engine;
};

/// The sum of negative log-likelihoods of tokens[1..n) given the tokens
/// before them, from position 0 (Evaluator::scoreSequence). `logits` is
/// scratch. The session is reset before and after.
double scoreSequence(qpalrtSession *session, const int32_t *tokens, int64_t n,
                     int64_t vocab, std::vector<float> &logits);

/// The project's perplexity protocol over `tokens`: consecutive windows of
/// `context` tokens, each scored from position 0, the tail that fills no
/// window dropped. `session` must hold `context` positions.
struct Perplexity {
  double perplexity = 0;
  int64_t scored = 0;
  int64_t windows = 0;
};
Perplexity measurePerplexity(qpalrtSession *session,
                             const std::vector<int32_t> &tokens,
                             int64_t context, int64_t vocab);

/// The length of `text` without a trailing incomplete UTF-8 sequence.
size_t completeUtf8Prefix(const std::string &text);

} // namespace qpalrun

#endif // QPAL_RUNTIME_TOOLS_EVALUATE_H
