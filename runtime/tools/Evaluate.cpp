//===- Evaluate.cpp - Generation and perplexity on the runtime ------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "Evaluate.h"

#include <algorithm>
#include <cmath>

using namespace qpalrun;

void qpalrun::check(qpalrtStatus status) {
  if (status != QPALRT_SUCCESS)
    throw Error(qpalrtGetLastError());
}

int32_t Sampler::next(const std::vector<float> &logits) {
  if (temperature == 0)
    return int32_t(std::max_element(logits.begin(), logits.end()) -
                   logits.begin());
  float maxLogit = *std::max_element(logits.begin(), logits.end());
  std::vector<std::pair<double, int32_t>> probabilities(logits.size());
  double total = 0.0;
  for (size_t v = 0; v < logits.size(); ++v) {
    double p = std::exp(double(logits[v] - maxLogit) / temperature);
    probabilities[v] = {p, int32_t(v)};
    total += p;
  }
  std::sort(probabilities.begin(), probabilities.end(),
            [](const auto &a, const auto &b) {
              return a.first > b.first ||
                     (a.first == b.first && a.second < b.second);
            });
  size_t kept = 0;
  double mass = 0.0;
  while (kept < probabilities.size() && (kept == 0 || mass < topP * total))
    mass += probabilities[kept++].first;
  // 53 random bits: the same draw on every platform.
  double u = double(engine() >> 11) * 0x1.0p-53 * mass;
  for (size_t i = 0; i < kept; ++i) {
    u -= probabilities[i].first;
    if (u < 0)
      return probabilities[i].second;
  }
  return probabilities[kept - 1].second;
}

double qpalrun::scoreSequence(qpalrtSession *session, const int32_t *tokens,
                              int64_t n, int64_t vocab,
                              std::vector<float> &logits) {
  check(qpalrtSessionReset(session));
  // Positions per run: their logits are held at once (64 x 49152 floats,
  // 12.6 MB, for SmolLM2; 256 held 50 MB, most of what qpal-run's
  // resident memory exceeded the package and KV cache by). A multiple of
  // the packages' prefill batch, so the steps are those of one long run.
  const int64_t chunk = 64;
  double total = 0.0;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    int64_t end = std::min(n, begin + chunk);
    logits.resize(size_t((end - begin) * vocab));
    check(qpalrtSessionRun(session, tokens + begin, end - begin, logits.data(),
                           0));
    for (int64_t t = begin; t < end && t + 1 < n; ++t) {
      const float *row = logits.data() + (t - begin) * vocab;
      float maxLogit = *std::max_element(row, row + vocab);
      double sum = 0.0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp(static_cast<double>(row[v] - maxLogit));
      total += maxLogit + std::log(sum) - row[tokens[t + 1]];
    }
  }
  check(qpalrtSessionReset(session));
  return total;
}

Perplexity qpalrun::measurePerplexity(qpalrtSession *session,
                                      const std::vector<int32_t> &tokens,
                                      int64_t context, int64_t vocab) {
  Perplexity result;
  std::vector<float> logits;
  double total = 0.0;
  const int64_t n = int64_t(tokens.size());
  for (int64_t begin = 0; begin + context <= n; begin += context) {
    total +=
        scoreSequence(session, tokens.data() + begin, context, vocab, logits);
    result.scored += context - 1;
    ++result.windows;
  }
  if (result.scored == 0)
    throw Error(std::to_string(n) + " tokens do not fill one window of " +
                std::to_string(context));
  result.perplexity = std::exp(total / double(result.scored));
  return result;
}

size_t qpalrun::completeUtf8Prefix(const std::string &text) {
  size_t end = text.size();
  for (size_t back = 1; back <= 3 && back <= end; ++back) {
    unsigned char c = static_cast<unsigned char>(text[end - back]);
    if ((c & 0xc0) == 0x80)
      continue; // a continuation byte: look further back
    size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return length > back ? end - back : end;
  }
  return end;
}
