//===- Evaluator.h - Reference Llama forward pass on the CPU ----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `Evaluator` runs a Llama-family decoder in float32 on the CPU: token
// embedding, per block RMSNorm -> grouped-query attention with RoPE (and RoPE
// rescaling) over a KV cache -> residual, RMSNorm -> SwiGLU MLP -> residual,
// then the final RMSNorm and the (tied or separate) LM head. Matrix products
// are multithreaded. It is the numeric reference that compiled kernels and
// quantized models are measured against.
//
// Fake quantization: `EvaluatorOptions::weightTransform` sees every block
// linear weight (q, k, v, o, gate, up, down; not the embedding nor the LM
// head) once, at load time, as a row-major [rows x cols] = [out x in] matrix,
// and may replace its values (decode(encode(W)) for a quantizer).
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_EVALUATOR_H
#define QPAL_MODEL_EVALUATOR_H

#include "qpal/Model/ModelFile.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace qpal::model {

/// Replaces a linear weight in place. `layerKey` is the reference's key
/// ("3_self_attn.q_proj", "3_mlp.down_proj"); `weight` is row-major
/// [rows x cols] = [out_features x in_features] and must keep its size.
using WeightTransform =
    std::function<llvm::Error(llvm::StringRef layerKey, int64_t rows,
                              int64_t cols, std::vector<float> &weight)>;

/// Computes y = x W^T for one block linear W [rows x cols]: x is n rows of
/// `cols` values (row stride ldx), y receives n rows of `rows` values (row
/// stride ldy).
using LinearFunction = std::function<void(const float *x, int64_t ldx, float *y,
                                          int64_t ldy, int64_t n)>;

/// Offers to compute a block linear's products itself (compiled kernels):
/// called once per block linear at load time with its key, shape and
/// weight as stored in the model (before any weightTransform). An empty
/// function declines: the layer then goes through weightTransform and the
/// evaluator's float32 matmul.
using LinearProvider = std::function<llvm::Expected<LinearFunction>(
    llvm::StringRef layerKey, int64_t rows, int64_t cols,
    llvm::ArrayRef<float> weight)>;

/// The inputs of a block's linears (q, k and v read one, gate and up one, o
/// and down one each) and of the LM head (the final norm's output, reported
/// with layer -1).
enum class LinearInput { Qkv, Output, GateUp, Down, Head };

/// Returns the name calibration files use for an input ("qkv", "o", "up",
/// "down", after QTIP's input_hessian_llama.py, and "head").
llvm::StringRef getLinearInputName(LinearInput input);

/// Sees the input rows of each of a block's linear inputs before its
/// products: `rows` rows of `cols` values (row stride ldx).
using InputObserver =
    std::function<void(int64_t layer, LinearInput input, const float *x,
                       int64_t ldx, int64_t rows, int64_t cols)>;

/// How an `Evaluator` is built.
struct EvaluatorOptions {
  /// Worker threads for matrix products; 0 uses every hardware thread.
  unsigned numThreads = 0;
  /// KV cache capacity in tokens; 0 uses min(context length, 4096).
  int64_t maxContext = 0;
  /// Optional fake-quantization hook applied to every block linear weight.
  WeightTransform weightTransform;
  /// Whether `weightTransform` also applies to the LM head (layer key
  /// `lm_head`; a tied head is untied first).
  bool transformLmHead = false;
  /// Optional provider of block linears' products (see LinearProvider).
  LinearProvider linearProvider;
  /// Optional observer of the block linears' inputs (calibration).
  InputObserver inputObserver;
};

/// Returns the RoPE inverse frequencies (`ropeDim / 2` of them) of `config`,
/// rescaling included.
std::vector<float> computeRopeInverseFrequencies(const ModelConfig &config);

/// A loaded model ready to run, with its KV cache.
/// A view of one block linear weight inside an evaluator.
struct LinearWeightView {
  /// rows x cols values, row-major ([out_features, in_features]).
  llvm::MutableArrayRef<float> values;
  int64_t rows = 0;
  int64_t cols = 0;
};

class Evaluator {
public:
  /// Loads (dequantizes) every weight of `model`, applies
  /// `options.weightTransform`, and allocates the KV cache.
  static llvm::Expected<std::unique_ptr<Evaluator>>
  create(const ModelFile &model, const EvaluatorOptions &options = {});
  ~Evaluator();

  /// Returns the model's hyper-parameters.
  const ModelConfig &getConfig() const;
  /// Returns how many tokens the KV cache holds.
  int64_t getCacheLength() const;
  /// Returns the KV cache capacity.
  int64_t getMaxContext() const;
  /// Returns the number of worker threads.
  unsigned getNumThreads() const;
  /// Empties the KV cache.
  void resetCache();

  /// Returns the weight of the block linear `layerKey` (the reference's key,
  /// "3_self_attn.q_proj" or "3_mlp.down_proj"), which callers may change in
  /// place (e.g. to probe one layer's sensitivity); reset the cache after a
  /// change. Errors name a malformed or unknown key.
  llvm::Expected<LinearWeightView> getLinearWeight(llvm::StringRef layerKey);

  /// Runs `tokens` at positions getCacheLength() onward and appends them to
  /// the KV cache. When `logits` is non-null it receives [tokens x vocab]
  /// logits if `allLogits`, else only the last position's [vocab].
  llvm::Error forward(llvm::ArrayRef<int32_t> tokens,
                      std::vector<float> *logits, bool allLogits = true);

  /// Returns the sum of negative log-likelihoods (natural log) of tokens[1..]
  /// given the tokens before them, evaluated from an empty cache, and leaves
  /// the cache empty.
  llvm::Expected<double> scoreSequence(llvm::ArrayRef<int32_t> tokens);

  /// Greedy decoding: runs `prompt` from an empty cache, then appends the
  /// arg-max token until `maxNewTokens` tokens were produced, one of
  /// `stopTokens` was produced (it is included), or the cache is full.
  /// Returns the new tokens.
  llvm::Expected<std::vector<int32_t>>
  generateGreedy(llvm::ArrayRef<int32_t> prompt, int64_t maxNewTokens,
                 llvm::ArrayRef<int32_t> stopTokens = {});

private:
  struct Impl;
  explicit Evaluator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace qpal::model

#endif // QPAL_MODEL_EVALUATOR_H
