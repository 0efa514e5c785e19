//===- LinearProviderTest.cpp - The evaluator's linear provider hook ------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `EvaluatorOptions::linearProvider` lets compiled kernels compute block
// linears. On the tiny Llama (2 blocks, q/k/v/o and a SwiGLU MLP of
// different widths), providers that compute y = x W^T in float64 from the
// weight they were given must reproduce the evaluator's own logits, whichever
// subset of linears they take: that checks the strides and the column
// offsets inside the fused q/k/v and gate/up products. Declining providers
// leave the model as it is; a failing one names the layer.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Evaluator.h"

#include "gtest/gtest.h"

#include <cmath>
#include <set>

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

/// Logits of `tokens` through an evaluator of the tiny model.
std::vector<float> tinyLogits(const EvaluatorOptions &options,
                              llvm::ArrayRef<int32_t> tokens) {
  auto model = openModel(inputPath("tiny-llama.gguf"));
  EXPECT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  if (!model)
    return {};
  auto evaluator = Evaluator::create(**model, options);
  EXPECT_TRUE(static_cast<bool>(evaluator)) << toString(evaluator.takeError());
  if (!evaluator)
    return {};
  std::vector<float> logits;
  llvm::Error err = (*evaluator)->forward(tokens, &logits, true);
  EXPECT_FALSE(static_cast<bool>(err)) << toString(std::move(err));
  return logits;
}

/// A provider that takes the layers whose key ends in one of `suffixes` and
/// computes their products in float64 from the given weight; it records the
/// keys it saw and the calls it served.
struct ReferenceProvider {
  std::vector<std::string> suffixes;
  std::set<std::string> seen;
  int calls = 0;

  LinearProvider get() {
    return
        [this](llvm::StringRef key, int64_t rows, int64_t cols,
               llvm::ArrayRef<float> weight) -> llvm::Expected<LinearFunction> {
          seen.insert(key.str());
          EXPECT_EQ(static_cast<int64_t>(weight.size()), rows * cols);
          bool take = false;
          for (const std::string &suffix : suffixes)
            take |= key.ends_with(suffix);
          if (!take)
            return LinearFunction();
          std::vector<float> w(weight.begin(), weight.end());
          return LinearFunction([this, w, rows, cols](const float *x,
                                                      int64_t ldx, float *y,
                                                      int64_t ldy, int64_t n) {
            ++calls;
            for (int64_t t = 0; t < n; ++t)
              for (int64_t r = 0; r < rows; ++r) {
                double sum = 0;
                for (int64_t c = 0; c < cols; ++c)
                  sum += double(x[t * ldx + c]) * w[r * cols + c];
                y[t * ldy + r] = static_cast<float>(sum);
              }
          });
        };
  }
};

TEST(LinearProvider, ReproducesTheEvaluatorForEverySubset) {
  std::vector<int32_t> tokens = {1, 7, 42, 5, 63, 12, 30, 2, 9};
  EvaluatorOptions plain;
  std::vector<float> expected = tinyLogits(plain, tokens);
  ASSERT_EQ(expected.size(), tokens.size() * 64);
  // One linear at a time (the middle of the fused q/k/v and gate/up
  // products included), all of them, and none.
  std::vector<std::vector<std::string>> subsets = {
      {"q_proj"},
      {"k_proj"},
      {"v_proj"},
      {"o_proj"},
      {"up_proj"},
      {"gate_proj"},
      {"down_proj"},
      {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
       "down_proj"},
      {}};
  for (const std::vector<std::string> &subset : subsets) {
    ReferenceProvider provider{subset, {}, 0};
    EvaluatorOptions options;
    options.linearProvider = provider.get();
    std::vector<float> logits = tinyLogits(options, tokens);
    ASSERT_EQ(logits.size(), expected.size());
    double worst = 0, scale = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      worst = std::max(worst, double(std::fabs(logits[i] - expected[i])));
      scale = std::max(scale, double(std::fabs(expected[i])));
    }
    EXPECT_GT(scale, 0.0);
    EXPECT_LT(worst, 1e-4 * scale) << "subset of " << subset.size();
    EXPECT_EQ(provider.seen.size(), 14u); // 2 blocks x 7 linears
    // Each provided layer runs once per forward, in both blocks.
    EXPECT_EQ(provider.calls, 2 * static_cast<int>(subset.size()));
  }
}

TEST(LinearProvider, AProviderThatChangesTheProductChangesTheModel) {
  std::vector<int32_t> tokens = {3, 4, 5};
  std::vector<float> expected = tinyLogits(EvaluatorOptions(), tokens);
  EvaluatorOptions options;
  options.linearProvider =
      [](llvm::StringRef key, int64_t rows, int64_t,
         llvm::ArrayRef<float>) -> llvm::Expected<LinearFunction> {
    if (!key.ends_with("k_proj"))
      return LinearFunction();
    return LinearFunction(
        [rows](const float *, int64_t, float *y, int64_t ldy, int64_t n) {
          for (int64_t t = 0; t < n; ++t)
            for (int64_t r = 0; r < rows; ++r)
              y[t * ldy + r] = 0.0f; // keys of zero: uniform attention
        });
  };
  std::vector<float> changed = tinyLogits(options, tokens);
  ASSERT_EQ(changed.size(), expected.size());
  double diff = 0;
  for (size_t i = 0; i < changed.size(); ++i)
    diff += std::fabs(changed[i] - expected[i]);
  EXPECT_GT(diff, 1e-3);
}

TEST(LinearProvider, AFailingProviderNamesTheLayer) {
  auto model = openModel(inputPath("tiny-llama.gguf"));
  ASSERT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  EvaluatorOptions options;
  options.linearProvider =
      [](llvm::StringRef key, int64_t, int64_t,
         llvm::ArrayRef<float>) -> llvm::Expected<LinearFunction> {
    if (key == "1_mlp.up_proj")
      return llvm::createStringError("no kernel for this shape");
    return LinearFunction();
  };
  auto failed = Evaluator::create(**model, options);
  ASSERT_FALSE(static_cast<bool>(failed));
  EXPECT_EQ(toString(failed.takeError()),
            "linear provider of '1_mlp.up_proj' failed: no kernel for this "
            "shape");
}

} // namespace
