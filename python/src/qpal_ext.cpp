//===- qpal_ext.cpp - Python bindings of the qpal runtime -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `qpal.Package(path)`: a compiled-model package opened by the runtime (no
// MLIR, no LLVM), with the package's own tokenizer. Generation and
// perplexity are `qpal-run`'s (runtime/tools/Evaluate.h), so the numbers
// are the same; logits come back as NumPy arrays. Runtime failures raise
// `qpal.Error` with the runtime's message.
//
//===----------------------------------------------------------------------===//

#include "Evaluate.h"

#include "qpalpkg.h"
#include "qpalrt.h"
#include "qpaltok/Tokenizer.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

namespace nb = nanobind;
using qpalrun::check;

namespace {

using Clock = std::chrono::steady_clock;

/// A session destroyed with the scope.
struct Session {
  qpalrtSession *session = nullptr;
  Session(qpalrtPackage *package, int64_t positions) {
    check(qpalrtCreateSession(package, positions, &session));
  }
  ~Session() { qpalrtDestroySession(session); }
  operator qpalrtSession *() const { return session; }
};

class Package {
public:
  Package(const std::string &path, int threads) : path(path) {
    if (threads < 0)
      throw nb::value_error("threads must be 0 (one per core) or more");
    check(qpalrtOpenPackage(path.c_str(), &package));
    check(qpalrtGetModelInfo(package, &info));
    check(qpalrtSetThreads(package, threads));
    const void *data = nullptr;
    size_t bytes = 0;
    check(qpalrtGetPackageSection(package, "tokenizer", &data, &bytes));
    qpaltok::Vocabulary vocabulary;
    std::string error;
    if (!qpaltok::parseVocabulary(static_cast<const char *>(data), bytes,
                                  vocabulary, error) ||
        !(tokenizer = qpaltok::Tokenizer::create(std::move(vocabulary), error)))
      throw qpalrun::Error(path + ": section 'tokenizer': " + error);
  }
  ~Package() { qpalrtClosePackage(package); }

  nb::dict describe() const {
    nb::dict d;
    d["path"] = path;
    d["name"] = std::string(info.name);
    d["target"] = std::string(info.target);
    d["vocab_size"] = info.vocabSize;
    d["hidden_size"] = info.hiddenSize;
    d["layers"] = info.layers;
    d["heads"] = info.heads;
    d["kv_heads"] = info.kvHeads;
    d["head_dim"] = info.headDim;
    d["context_length"] = info.contextLength;
    d["bits_per_weight"] = info.bitsPerWeight;
    d["package_bytes"] = info.packageBytes;
    d["weight_bytes"] = info.weightBytes;
    d["format_version"] = QPALPKG_FORMAT_VERSION;
    return d;
  }

  std::vector<int32_t> tokenize(const std::string &text, bool addBos,
                                bool parseSpecial) const {
    return tokenizer->encode(text, addBos, parseSpecial, nullptr);
  }

  std::string detokenize(const std::vector<int32_t> &tokens) const {
    for (int32_t token : tokens)
      if (token < 0 || token >= info.vocabSize)
        throw nb::value_error(("token " + std::to_string(token) +
                               " is outside the vocabulary of " +
                               std::to_string(info.vocabSize))
                                  .c_str());
    return tokenizer->decode(tokens.data(), tokens.size());
  }

  /// The logits after each of `tokens`, run from position 0.
  nb::ndarray<nb::numpy, float, nb::ndim<2>>
  logits(const std::vector<int32_t> &tokens) const {
    if (tokens.empty())
      throw nb::value_error("logits of no tokens");
    int64_t n = int64_t(tokens.size()), vocab = info.vocabSize;
    auto *values = new std::vector<float>(size_t(n * vocab));
    nb::capsule owner(values, [](void *p) noexcept {
      delete static_cast<std::vector<float> *>(p);
    });
    {
      nb::gil_scoped_release release;
      Session session(package, n);
      check(qpalrtSessionRun(session, tokens.data(), n, values->data(), 0));
    }
    return nb::ndarray<nb::numpy, float, nb::ndim<2>>(
        values->data(), {size_t(n), size_t(vocab)}, owner);
  }

  std::string generate(const std::string &prompt, int64_t n, double temperature,
                       double topP, uint64_t seed, bool chat) const {
    if (n < 0)
      throw nb::value_error("n must be 0 or more");
    if (temperature < 0 || !(topP > 0 && topP <= 1))
      throw nb::value_error("temperature must be >= 0 and top_p in (0, 1]");
    std::string text = chat ? "<|im_start|>user\n" + prompt +
                                  "<|im_end|>\n<|im_start|>assistant\n"
                            : prompt;
    std::vector<int32_t> promptTokens =
        tokenizer->encode(text, tokenizer->getAddBos(), true, nullptr);
    if (promptTokens.empty())
      throw nb::value_error("the prompt is empty");
    int64_t maxContext = std::min<int64_t>(info.contextLength, 4096);
    if (int64_t(promptTokens.size()) >= maxContext)
      throw nb::value_error("the prompt fills the context");
    std::vector<int32_t> tokens;
    {
      nb::gil_scoped_release release;
      Session session(package, maxContext);
      std::vector<float> logits(size_t(info.vocabSize));
      check(qpalrtSessionRun(session, promptTokens.data(),
                             int64_t(promptTokens.size()), logits.data(), 1));
      std::optional<int32_t> eos = tokenizer->getEosToken();
      qpalrun::Sampler sampler(temperature, topP, seed);
      int64_t position = int64_t(promptTokens.size());
      while (int64_t(tokens.size()) < n) {
        int32_t next = sampler.next(logits);
        tokens.push_back(next);
        if ((eos && next == *eos) || int64_t(tokens.size()) >= n ||
            position >= maxContext)
          break;
        check(qpalrtSessionRun(session, &next, 1, logits.data(), 1));
        ++position;
      }
    }
    return tokenizer->decode(tokens.data(), tokens.size());
  }

  double perplexity(const std::string &text, int64_t context,
                    int64_t maxTokens) const {
    if (context < 2 || maxTokens < 2)
      throw nb::value_error("ctx and max_tokens must be at least 2");
    std::vector<int32_t> tokens =
        tokenizer->encode(text, false, /*parseSpecial=*/false, nullptr);
    if (int64_t(tokens.size()) > maxTokens)
      tokens.resize(size_t(maxTokens));
    nb::gil_scoped_release release;
    Session session(package, context);
    return qpalrun::measurePerplexity(session, tokens, context, info.vocabSize)
        .perplexity;
  }

  nb::dict bench(int64_t promptTokens, int64_t decodeTokens,
                 int64_t repeats) const {
    if (promptTokens < 1 || decodeTokens < 1 || repeats < 1)
      throw nb::value_error("prompt_tokens, decode_tokens and repeats must "
                            "be positive");
    std::vector<double> prefill, decode;
    {
      nb::gil_scoped_release release;
      Session session(package, promptTokens + decodeTokens);
      std::vector<int32_t> prompt(static_cast<size_t>(promptTokens));
      for (int64_t i = 0; i < promptTokens; ++i)
        prompt[size_t(i)] = int32_t((1 + 31 * i) % info.vocabSize);
      std::vector<float> logits(size_t(info.vocabSize));
      for (int64_t r = 0; r <= repeats; ++r) {
        check(qpalrtSessionReset(session));
        Clock::time_point start = Clock::now();
        check(qpalrtSessionRun(session, prompt.data(), promptTokens,
                               logits.data(), 1));
        Clock::time_point middle = Clock::now();
        for (int64_t i = 0; i < decodeTokens; ++i) {
          int32_t next = int32_t(
              std::max_element(logits.begin(), logits.end()) - logits.begin());
          check(qpalrtSessionRun(session, &next, 1, logits.data(), 1));
        }
        Clock::time_point end = Clock::now();
        if (r == 0)
          continue; // the warm-up
        prefill.push_back(
            std::chrono::duration<double>(middle - start).count());
        decode.push_back(std::chrono::duration<double>(end - middle).count());
      }
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      size_t n = v.size();
      return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    nb::dict d;
    d["prefill_tokens_per_second"] = double(promptTokens) / median(prefill);
    d["decode_tokens_per_second"] = double(decodeTokens) / median(decode);
    d["prompt_tokens"] = promptTokens;
    d["decode_tokens"] = decodeTokens;
    d["repeats"] = repeats;
    return d;
  }

private:
  std::string path;
  qpalrtPackage *package = nullptr;
  qpalrtModelInfo info;
  std::unique_ptr<qpaltok::Tokenizer> tokenizer;
};

} // namespace

NB_MODULE(_qpal, m) {
  m.doc() = "The qpal runtime: run compiled-model packages (no compiler).";
  m.attr("__version__") = QPAL_VERSION_STRING;
  m.attr("PACKAGE_FORMAT_VERSION") = QPALPKG_FORMAT_VERSION;
  nb::exception<qpalrun::Error>(m, "Error", PyExc_RuntimeError);
  nb::class_<Package>(m, "Package",
                      "A compiled-model package (`qpal compile`), opened "
                      "and checked by the runtime.")
      .def(nb::init<const std::string &, int>(), nb::arg("path"),
           nb::arg("threads") = 0,
           "Opens the package at `path`; `threads` 0 uses one per core.")
      .def_prop_ro("info", &Package::describe,
                   "The model and the package, as a dict.")
      .def("tokenize", &Package::tokenize, nb::arg("text"),
           nb::arg("add_bos") = false, nb::arg("parse_special") = false,
           "Token ids of `text` under the package's tokenizer.")
      .def("detokenize", &Package::detokenize, nb::arg("tokens"),
           "The text of token ids.")
      .def("logits", &Package::logits, nb::arg("tokens"),
           "The logits after each token, run from position 0: a float32 "
           "array of len(tokens) x vocab_size.")
      .def("generate", &Package::generate, nb::arg("prompt"), nb::arg("n") = 64,
           nb::arg("temperature") = 0.0, nb::arg("top_p") = 1.0,
           nb::arg("seed") = 0, nb::arg("chat") = false,
           "Up to `n` new tokens after `prompt`, as text (greedy at "
           "temperature 0, as `qpal-run --prompt`).")
      .def("perplexity", &Package::perplexity, nb::arg("text"),
           nb::arg("ctx") = 512, nb::arg("max_tokens") = 8192,
           "Perplexity of `text` under the project's protocol (windows of "
           "`ctx` tokens, the first `max_tokens`), as `qpal-run "
           "--perplexity`.")
      .def("bench", &Package::bench, nb::arg("prompt_tokens") = 128,
           nb::arg("decode_tokens") = 64, nb::arg("repeats") = 3,
           "Prefill and batch-1 decode tokens/s, median of `repeats` after "
           "a warm-up (as `qpal-run --bench`).");
}
