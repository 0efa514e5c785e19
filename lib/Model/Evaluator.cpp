//===- Evaluator.cpp - Reference Llama forward pass on the CPU ------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Weights are held as float32, with q/k/v and gate/up concatenated so that
// each pair or triple is one matrix product. The V cache is stored transposed
// ([kv head][dim][position]) so that probabilities x values is the same
// X * W^T product as everything else.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Evaluator.h"

#include "MatMul.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

using namespace qpal::model;
using llvm::ArrayRef;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

std::vector<float>
qpal::model::computeRopeInverseFrequencies(const ModelConfig &config) {
  int64_t pairs = config.ropeDim / 2;
  const RopeScaling &scaling = config.ropeScaling;
  std::vector<float> inverse(pairs);
  for (int64_t i = 0; i < pairs; ++i) {
    double freq = std::pow(config.ropeTheta,
                           -2.0 * static_cast<double>(i) / config.ropeDim);
    if (!scaling.frequencyFactors.empty()) {
      freq /= scaling.frequencyFactors[i];
    } else if (scaling.type == RopeScalingType::Linear) {
      freq /= scaling.factor;
    } else if (scaling.type == RopeScalingType::Llama3) {
      // Hugging Face's `_compute_llama3_parameters`.
      double original = static_cast<double>(scaling.originalContextLength);
      double lowWavelen = original / scaling.lowFreqFactor;
      double highWavelen = original / scaling.highFreqFactor;
      double wavelen = 2.0 * M_PI / freq;
      if (wavelen > lowWavelen) {
        freq /= scaling.factor;
      } else if (wavelen >= highWavelen) {
        double smooth = (original / wavelen - scaling.lowFreqFactor) /
                        (scaling.highFreqFactor - scaling.lowFreqFactor);
        freq = (1.0 - smooth) * freq / scaling.factor + smooth * freq;
      }
    }
    inverse[i] = static_cast<float>(freq);
  }
  return inverse;
}

namespace {

/// Splits index ranges over the calling thread and a pool of workers.
class Parallel {
public:
  explicit Parallel(unsigned threads) : threads(std::max(threads, 1u)) {
    if (this->threads > 1)
      pool = std::make_unique<llvm::DefaultThreadPool>(
          llvm::hardware_concurrency(this->threads - 1));
  }

  unsigned getNumThreads() const { return threads; }

  /// Calls fn(begin, end) on disjoint ranges covering [0, n), each a
  /// multiple of `grain` long except the last, in parallel.
  template <typename Fn> void forRange(int64_t n, int64_t grain, Fn fn) {
    int64_t units = (n + grain - 1) / grain;
    int64_t chunks = std::min<int64_t>(threads, units);
    if (chunks <= 1) {
      fn(int64_t(0), n);
      return;
    }
    auto bounds = [&](int64_t c) {
      return std::min(n, (units * c / chunks) * grain);
    };
    for (int64_t c = 1; c < chunks; ++c)
      pool->async([&, c] { fn(bounds(c), bounds(c + 1)); });
    fn(bounds(0), bounds(1));
    pool->wait();
  }

  /// Calls fn(i) for every i in [0, n), in parallel.
  template <typename Fn> void forEach(int64_t n, Fn fn) {
    forRange(n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        fn(i);
    });
  }

private:
  unsigned threads;
  std::unique_ptr<llvm::DefaultThreadPool> pool;
};

/// The provided products of a block's linears (empty: the matmul).
struct LayerFunctions {
  LinearFunction q, k, v, output, gate, up, down;
};

struct Layer {
  LayerFunctions functions;
  std::vector<float> attnNorm, ffnNorm;
  std::vector<float> qkv;    // [(heads + 2 kv heads) * headDim, hidden]
  std::vector<float> output; // [hidden, heads * headDim]
  std::vector<float> gateUp; // [2 * intermediate, hidden]
  std::vector<float> down;   // [hidden, intermediate]
};

} // namespace

struct Evaluator::Impl {
  ModelConfig config;
  InputObserver observer;
  Parallel parallel;
  int64_t maxContext = 0;
  int64_t cacheLength = 0;

  std::vector<float> embedding; // [vocab, hidden]
  std::vector<float> lmHead;    // [vocab, hidden]; empty when tied
  std::vector<float> finalNorm;
  std::vector<Layer> layers;
  std::vector<float> inverseFrequencies;
  std::vector<std::vector<float>> keyCache;   // [position][kv heads * dim]
  std::vector<std::vector<float>> valueCache; // [kv head][dim][position]

  explicit Impl(unsigned threads) : parallel(threads) {}

  int64_t qDim() const { return config.numHeads * config.headDim; }
  int64_t kvDim() const { return config.numKvHeads * config.headDim; }
  const float *getLmHead() const {
    return lmHead.empty() ? embedding.data() : lmHead.data();
  }

  Error load(const ModelFile &model, const EvaluatorOptions &options);
  /// Y = X * W^T over the thread pool.
  void matmul(const float *x, int64_t ldx, const float *w, int64_t ldw,
              float *y, int64_t ldy, int64_t rows, int64_t cols, int64_t depth);
  void rmsNorm(const float *x, const float *weight, float *y, int64_t rows);
  void attention(int64_t layer, const float *qkv, float *out, int64_t rows,
                 int64_t start);
  Error forward(ArrayRef<int32_t> tokens, std::vector<float> *logits,
                bool allLogits);
};

Error Evaluator::Impl::load(const ModelFile &model,
                            const EvaluatorOptions &options) {
  config = model.getConfig();
  if (Error err = verifyConfig(config))
    return err;
  const int64_t hidden = config.hiddenSize, inter = config.intermediateSize;
  auto readShaped = [&](StringRef name, ArrayRef<int64_t> shape,
                        std::vector<float> &out) -> Error {
    const TensorInfo *tensor = model.lookupTensor(name);
    if (!tensor)
      return llvm::createStringError(model.getPath() + ": missing tensor '" +
                                     name + "'");
    if (ArrayRef<int64_t>(tensor->shape) != shape)
      return llvm::createStringError(llvm::formatv(
          "{0}: tensor '{1}' has shape [{2}], expected [{3}]", model.getPath(),
          name, llvm::make_range(tensor->shape.begin(), tensor->shape.end()),
          llvm::make_range(shape.begin(), shape.end())));
    out.resize(tensor->numElements);
    return model.readInto(name, out);
  };
  // Reads a block linear weight and offers it to the provider, else passes
  // it through the transform.
  auto readLinear = [&](int64_t layer, StringRef proj, int64_t rows,
                        int64_t cols, std::vector<float> &out,
                        LinearFunction *provided = nullptr) -> Error {
    std::string name = getLinearWeightName(layer, proj);
    if (Error err = readShaped(name, {rows, cols}, out))
      return err;
    std::string key = *getLinearLayerKey(name);
    if (options.linearProvider && provided) {
      Expected<LinearFunction> function =
          options.linearProvider(key, rows, cols, out);
      if (!function)
        return llvm::createStringError(
            "linear provider of '" + key +
            "' failed: " + llvm::toString(function.takeError()));
      *provided = std::move(*function);
      if (*provided)
        return Error::success();
    }
    if (!options.weightTransform)
      return Error::success();
    if (Error err = options.weightTransform(key, rows, cols, out))
      return llvm::createStringError(
          "weight transform of '" + key +
          "' failed: " + llvm::toString(std::move(err)));
    if (static_cast<int64_t>(out.size()) != rows * cols)
      return llvm::createStringError(
          llvm::formatv("weight transform of '{0}' changed the size from {1} "
                        "to {2}",
                        key, rows * cols, out.size()));
    return Error::success();
  };

  for (const TensorInfo &tensor : model.getTensors())
    if (StringRef(tensor.name).ends_with(".bias"))
      return llvm::createStringError(model.getPath() + ": tensor '" +
                                     tensor.name +
                                     "': linear biases are not supported");

  if (Error err = readShaped("model.embed_tokens.weight",
                             {config.vocabSize, hidden}, embedding))
    return err;
  if (Error err = readShaped("model.norm.weight", {hidden}, finalNorm))
    return err;
  if (!config.tiedEmbeddings)
    if (Error err =
            readShaped("lm_head.weight", {config.vocabSize, hidden}, lmHead))
      return err;
  if (options.transformLmHead && options.weightTransform) {
    if (lmHead.empty())
      lmHead = embedding;
    if (Error err = options.weightTransform("lm_head", config.vocabSize, hidden,
                                            lmHead))
      return llvm::createStringError("weight transform of the LM head "
                                     "failed: " +
                                     llvm::toString(std::move(err)));
    if (static_cast<int64_t>(lmHead.size()) != config.vocabSize * hidden)
      return llvm::createStringError(
          "the weight transform changed the LM head's size");
  }

  layers.resize(config.numLayers);
  std::vector<float> q, k, v, gate, up;
  for (int64_t l = 0; l < config.numLayers; ++l) {
    Layer &layer = layers[l];
    std::string prefix = ("model.layers." + llvm::Twine(l) + ".").str();
    if (Error err = readShaped(prefix + "input_layernorm.weight", {hidden},
                               layer.attnNorm))
      return err;
    if (Error err = readShaped(prefix + "post_attention_layernorm.weight",
                               {hidden}, layer.ffnNorm))
      return err;
    LayerFunctions &functions = layer.functions;
    if (Error err =
            readLinear(l, "self_attn.q_proj", qDim(), hidden, q, &functions.q))
      return err;
    if (Error err =
            readLinear(l, "self_attn.k_proj", kvDim(), hidden, k, &functions.k))
      return err;
    if (Error err =
            readLinear(l, "self_attn.v_proj", kvDim(), hidden, v, &functions.v))
      return err;
    if (Error err = readLinear(l, "self_attn.o_proj", hidden, qDim(),
                               layer.output, &functions.output))
      return err;
    if (Error err = readLinear(l, "mlp.gate_proj", inter, hidden, gate,
                               &functions.gate))
      return err;
    if (Error err =
            readLinear(l, "mlp.up_proj", inter, hidden, up, &functions.up))
      return err;
    if (Error err = readLinear(l, "mlp.down_proj", hidden, inter, layer.down,
                               &functions.down))
      return err;
    layer.qkv.reserve(q.size() + k.size() + v.size());
    llvm::append_range(layer.qkv, q);
    llvm::append_range(layer.qkv, k);
    llvm::append_range(layer.qkv, v);
    layer.gateUp.reserve(gate.size() + up.size());
    llvm::append_range(layer.gateUp, gate);
    llvm::append_range(layer.gateUp, up);
  }

  inverseFrequencies = computeRopeInverseFrequencies(config);
  observer = options.inputObserver;
  // The KV cache is sized from the context: refuse one the model does not
  // have before allocating it.
  constexpr int64_t kUnstatedContextLimit = 131072;
  int64_t contextLimit =
      config.contextLength > 0 ? config.contextLength : kUnstatedContextLimit;
  if (options.maxContext < 0 || options.maxContext > contextLimit)
    return llvm::createStringError(llvm::formatv(
        "a context of {0} tokens is outside [1, {1}], {2}", options.maxContext,
        contextLimit,
        config.contextLength > 0
            ? "the model's context length (its context_length metadata)"
            : "the limit for a model that does not state its context length"));
  maxContext = options.maxContext > 0
                   ? options.maxContext
                   : (config.contextLength > 0
                          ? std::min<int64_t>(config.contextLength, 4096)
                          : 4096);
  keyCache.assign(config.numLayers,
                  std::vector<float>(maxContext * kvDim(), 0.0f));
  valueCache.assign(config.numLayers,
                    std::vector<float>(maxContext * kvDim(), 0.0f));
  return Error::success();
}

void Evaluator::Impl::matmul(const float *x, int64_t ldx, const float *w,
                             int64_t ldw, float *y, int64_t ldy, int64_t rows,
                             int64_t cols, int64_t depth) {
  // Split the output columns (weight rows) when there are enough of them, so
  // that each thread streams its own part of the weight.
  if (cols >= 16 * static_cast<int64_t>(parallel.getNumThreads())) {
    parallel.forRange(cols, 16, [&](int64_t begin, int64_t end) {
      detail::matmulTransposed(x, ldx, w + begin * ldw, ldw, y + begin, ldy,
                               rows, end - begin, depth);
    });
    return;
  }
  parallel.forRange(rows, 4, [&](int64_t begin, int64_t end) {
    detail::matmulTransposed(x + begin * ldx, ldx, w, ldw, y + begin * ldy, ldy,
                             end - begin, cols, depth);
  });
}

void Evaluator::Impl::rmsNorm(const float *x, const float *weight, float *y,
                              int64_t rows) {
  const int64_t hidden = config.hiddenSize;
  for (int64_t t = 0; t < rows; ++t) {
    const float *row = x + t * hidden;
    double sum = 0.0;
    for (int64_t i = 0; i < hidden; ++i)
      sum += static_cast<double>(row[i]) * row[i];
    float scale = static_cast<float>(
        1.0 / std::sqrt(sum / static_cast<double>(hidden) + config.rmsNormEps));
    float *out = y + t * hidden;
    for (int64_t i = 0; i < hidden; ++i)
      out[i] = row[i] * scale * weight[i];
  }
}

void Evaluator::Impl::attention(int64_t layer, const float *qkv, float *out,
                                int64_t rows, int64_t start) {
  const int64_t headDim = config.headDim, heads = config.numHeads;
  const int64_t group = heads / config.numKvHeads;
  const int64_t qkvStride = qDim() + 2 * kvDim();
  const int64_t blockRows = 64;
  const int64_t blocks = (rows + blockRows - 1) / blockRows;
  const float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
  const float *keys = keyCache[layer].data();
  const float *values = valueCache[layer].data();
  // One task per (head, block of query rows); causality bounds each block's
  // key range.
  parallel.forEach(heads * blocks, [&](int64_t task) {
    int64_t head = task / blocks, block = task % blocks;
    int64_t kvHead = head / group;
    int64_t t0 = block * blockRows, t1 = std::min(rows, t0 + blockRows);
    int64_t keysSeen = start + t1;
    std::vector<float> scores((t1 - t0) * keysSeen);
    detail::matmulTransposed(qkv + t0 * qkvStride + head * headDim, qkvStride,
                             keys + kvHead * headDim, kvDim(), scores.data(),
                             keysSeen, t1 - t0, keysSeen, headDim);
    for (int64_t t = t0; t < t1; ++t) {
      float *row = scores.data() + (t - t0) * keysSeen;
      int64_t visible = start + t + 1;
      float maxScore = -std::numeric_limits<float>::infinity();
      for (int64_t s = 0; s < visible; ++s) {
        row[s] *= scale;
        maxScore = std::max(maxScore, row[s]);
      }
      float sum = 0.0f;
      for (int64_t s = 0; s < visible; ++s) {
        row[s] = std::exp(row[s] - maxScore);
        sum += row[s];
      }
      float inverse = 1.0f / sum;
      for (int64_t s = 0; s < visible; ++s)
        row[s] *= inverse;
      std::fill(row + visible, row + keysSeen, 0.0f);
    }
    detail::matmulTransposed(scores.data(), keysSeen,
                             values + kvHead * headDim * maxContext, maxContext,
                             out + t0 * qDim() + head * headDim, qDim(),
                             t1 - t0, headDim, keysSeen);
  });
}

Error Evaluator::Impl::forward(ArrayRef<int32_t> tokens,
                               std::vector<float> *logits, bool allLogits) {
  const int64_t rows = static_cast<int64_t>(tokens.size());
  const int64_t hidden = config.hiddenSize, inter = config.intermediateSize;
  const int64_t headDim = config.headDim, vocab = config.vocabSize;
  if (rows == 0) {
    if (logits)
      logits->clear();
    return Error::success();
  }
  if (cacheLength + rows > maxContext)
    return llvm::createStringError(
        llvm::formatv("{0} cached + {1} new tokens exceed the context of {2}",
                      cacheLength, rows, maxContext));
  for (int32_t token : tokens)
    if (token < 0 || token >= vocab)
      return llvm::createStringError(llvm::formatv(
          "token id {0} is outside the vocabulary [0, {1})", token, vocab));

  const int64_t start = cacheLength;
  const int64_t qkvStride = qDim() + 2 * kvDim();
  std::vector<float> x(rows * hidden), normed(rows * hidden);
  std::vector<float> qkv(rows * qkvStride), attnOut(rows * qDim());
  std::vector<float> gateUp(rows * 2 * inter), act(rows * inter);
  std::vector<float> delta(rows * hidden);
  for (int64_t t = 0; t < rows; ++t)
    std::copy_n(embedding.data() + tokens[t] * hidden, hidden,
                x.data() + t * hidden);

  // cos/sin of every (position, frequency) of this call.
  const int64_t pairs = config.ropeDim / 2;
  std::vector<float> cosTable(rows * pairs), sinTable(rows * pairs);
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t i = 0; i < pairs; ++i) {
      float angle = static_cast<float>(start + t) * inverseFrequencies[i];
      cosTable[t * pairs + i] = std::cos(angle);
      sinTable[t * pairs + i] = std::sin(angle);
    }
  // Half-split RoPE on the first ropeDim dims of one head.
  auto rotate = [&](float *head, int64_t t) {
    const float *c = cosTable.data() + t * pairs;
    const float *s = sinTable.data() + t * pairs;
    for (int64_t i = 0; i < pairs; ++i) {
      float a = head[i], b = head[i + pairs];
      head[i] = a * c[i] - b * s[i];
      head[i + pairs] = a * s[i] + b * c[i];
    }
  };

  // Y[:, first .. first + outRows) = X W_part^T, through the layer's
  // provided function when it has one, else over the thread pool from the
  // (fused) weight `w` whose rows [first, first + outRows) are the part.
  auto linear = [&](const LinearFunction &function, const float *in,
                    int64_t ldIn, const std::vector<float> &w, int64_t first,
                    int64_t outRows, float *out, int64_t ldOut, int64_t depth) {
    if (function)
      function(in, ldIn, out + first, ldOut, rows);
    else
      matmul(in, ldIn, w.data() + first * depth, depth, out + first, ldOut,
             rows, outRows, depth);
  };

  for (int64_t l = 0; l < config.numLayers; ++l) {
    const Layer &layer = layers[l];
    const LayerFunctions &functions = layer.functions;
    rmsNorm(x.data(), layer.attnNorm.data(), normed.data(), rows);
    if (observer)
      observer(l, LinearInput::Qkv, normed.data(), hidden, rows, hidden);
    if (functions.q || functions.k || functions.v) {
      linear(functions.q, normed.data(), hidden, layer.qkv, 0, qDim(),
             qkv.data(), qkvStride, hidden);
      linear(functions.k, normed.data(), hidden, layer.qkv, qDim(), kvDim(),
             qkv.data(), qkvStride, hidden);
      linear(functions.v, normed.data(), hidden, layer.qkv, qDim() + kvDim(),
             kvDim(), qkv.data(), qkvStride, hidden);
    } else {
      matmul(normed.data(), hidden, layer.qkv.data(), hidden, qkv.data(),
             qkvStride, rows, qkvStride, hidden);
    }
    float *keys = keyCache[l].data();
    float *values = valueCache[l].data();
    for (int64_t t = 0; t < rows; ++t) {
      float *row = qkv.data() + t * qkvStride;
      for (int64_t h = 0; h < config.numHeads; ++h)
        rotate(row + h * headDim, t);
      float *k = row + qDim();
      for (int64_t h = 0; h < config.numKvHeads; ++h)
        rotate(k + h * headDim, t);
      std::copy_n(k, kvDim(), keys + (start + t) * kvDim());
      const float *v = k + kvDim();
      for (int64_t d = 0; d < kvDim(); ++d)
        values[d * maxContext + start + t] = v[d];
    }
    attention(l, qkv.data(), attnOut.data(), rows, start);
    if (observer)
      observer(l, LinearInput::Output, attnOut.data(), qDim(), rows, qDim());
    linear(functions.output, attnOut.data(), qDim(), layer.output, 0, hidden,
           delta.data(), hidden, qDim());
    for (int64_t i = 0, e = rows * hidden; i < e; ++i)
      x[i] += delta[i];

    rmsNorm(x.data(), layer.ffnNorm.data(), normed.data(), rows);
    if (observer)
      observer(l, LinearInput::GateUp, normed.data(), hidden, rows, hidden);
    if (functions.gate || functions.up) {
      linear(functions.gate, normed.data(), hidden, layer.gateUp, 0, inter,
             gateUp.data(), 2 * inter, hidden);
      linear(functions.up, normed.data(), hidden, layer.gateUp, inter, inter,
             gateUp.data(), 2 * inter, hidden);
    } else {
      matmul(normed.data(), hidden, layer.gateUp.data(), hidden, gateUp.data(),
             2 * inter, rows, 2 * inter, hidden);
    }
    for (int64_t t = 0; t < rows; ++t) {
      const float *gate = gateUp.data() + t * 2 * inter;
      const float *up = gate + inter;
      float *a = act.data() + t * inter;
      for (int64_t i = 0; i < inter; ++i)
        a[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
    }
    if (observer)
      observer(l, LinearInput::Down, act.data(), inter, rows, inter);
    linear(functions.down, act.data(), inter, layer.down, 0, hidden,
           delta.data(), hidden, inter);
    for (int64_t i = 0, e = rows * hidden; i < e; ++i)
      x[i] += delta[i];
  }
  cacheLength += rows;

  if (observer) {
    // The LM head's input, every row (calibration asks for no logits).
    rmsNorm(x.data(), finalNorm.data(), normed.data(), rows);
    observer(-1, LinearInput::Head, normed.data(), hidden, rows, hidden);
  }
  if (!logits)
    return Error::success();
  int64_t first = allLogits ? 0 : rows - 1;
  int64_t outRows = rows - first;
  // With an observer every row is normed already.
  if (!observer)
    rmsNorm(x.data() + first * hidden, finalNorm.data(), normed.data(),
            outRows);
  const float *headInput = normed.data() + (observer ? first * hidden : 0);
  logits->resize(outRows * vocab);
  matmul(headInput, hidden, getLmHead(), hidden, logits->data(), vocab, outRows,
         vocab, hidden);
  return Error::success();
}

StringRef qpal::model::getLinearInputName(LinearInput input) {
  switch (input) {
  case LinearInput::Qkv:
    return "qkv";
  case LinearInput::Output:
    return "o";
  case LinearInput::GateUp:
    return "up";
  case LinearInput::Down:
    return "down";
  case LinearInput::Head:
    return "head";
  }
  llvm_unreachable("unknown linear input");
}

Evaluator::Evaluator(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Evaluator::~Evaluator() = default;

Expected<std::unique_ptr<Evaluator>>
Evaluator::create(const ModelFile &model, const EvaluatorOptions &options) {
  unsigned threads = options.numThreads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  auto impl = std::make_unique<Impl>(threads);
  if (Error err = impl->load(model, options))
    return std::move(err);
  return std::unique_ptr<Evaluator>(new Evaluator(std::move(impl)));
}

const ModelConfig &Evaluator::getConfig() const { return impl->config; }
int64_t Evaluator::getCacheLength() const { return impl->cacheLength; }
int64_t Evaluator::getMaxContext() const { return impl->maxContext; }
unsigned Evaluator::getNumThreads() const {
  return impl->parallel.getNumThreads();
}
void Evaluator::resetCache() { impl->cacheLength = 0; }

Expected<LinearWeightView> Evaluator::getLinearWeight(StringRef layerKey) {
  auto malformed = [&] {
    return llvm::createStringError(
        llvm::formatv("malformed layer key '{0}', expected "
                      "'{{block}_self_attn.{{q,k,v,o}_proj' or "
                      "'{{block}_mlp.{{gate,up,down}_proj'",
                      layerKey));
  };
  auto [blockText, module] = layerKey.split('_');
  int64_t block;
  if (blockText.getAsInteger(10, block) || module.empty())
    return malformed();
  if (block < 0 || block >= impl->config.numLayers)
    return llvm::createStringError(
        llvm::formatv("layer key '{0}': block {1} is out of range [0, {2})",
                      layerKey, block, impl->config.numLayers));
  Layer &layer = impl->layers[block];
  const int64_t hidden = impl->config.hiddenSize;
  const int64_t inter = impl->config.intermediateSize;
  const int64_t qDim = impl->qDim(), kvDim = impl->kvDim();
  auto view = [](std::vector<float> &storage, int64_t firstRow, int64_t rows,
                 int64_t cols) {
    return LinearWeightView{llvm::MutableArrayRef<float>(storage).slice(
                                firstRow * cols, rows * cols),
                            rows, cols};
  };
  if (module == "self_attn.q_proj")
    return view(layer.qkv, 0, qDim, hidden);
  if (module == "self_attn.k_proj")
    return view(layer.qkv, qDim, kvDim, hidden);
  if (module == "self_attn.v_proj")
    return view(layer.qkv, qDim + kvDim, kvDim, hidden);
  if (module == "self_attn.o_proj")
    return view(layer.output, 0, hidden, qDim);
  if (module == "mlp.gate_proj")
    return view(layer.gateUp, 0, inter, hidden);
  if (module == "mlp.up_proj")
    return view(layer.gateUp, inter, inter, hidden);
  if (module == "mlp.down_proj")
    return view(layer.down, 0, hidden, inter);
  return malformed();
}

Error Evaluator::forward(ArrayRef<int32_t> tokens, std::vector<float> *logits,
                         bool allLogits) {
  return impl->forward(tokens, logits, allLogits);
}

Expected<double> Evaluator::scoreSequence(ArrayRef<int32_t> tokens) {
  resetCache();
  const int64_t vocab = impl->config.vocabSize;
  // Bounded logits memory: run the sequence in chunks through the cache.
  const int64_t chunk = 256;
  double total = 0.0;
  std::vector<float> logits;
  for (int64_t begin = 0, n = tokens.size(); begin < n; begin += chunk) {
    int64_t end = std::min(n, begin + chunk);
    if (Error err = forward(tokens.slice(begin, end - begin), &logits,
                            /*allLogits=*/true)) {
      resetCache();
      return std::move(err);
    }
    for (int64_t t = begin; t < end && t + 1 < n; ++t) {
      const float *row = logits.data() + (t - begin) * vocab;
      float maxLogit = *std::max_element(row, row + vocab);
      double sum = 0.0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp(static_cast<double>(row[v] - maxLogit));
      total += maxLogit + std::log(sum) - row[tokens[t + 1]];
    }
  }
  resetCache();
  return total;
}

Expected<std::vector<int32_t>>
Evaluator::generateGreedy(ArrayRef<int32_t> prompt, int64_t maxNewTokens,
                          ArrayRef<int32_t> stopTokens) {
  resetCache();
  std::vector<int32_t> produced;
  std::vector<float> logits;
  if (Error err = forward(prompt, &logits, /*allLogits=*/false))
    return std::move(err);
  while (static_cast<int64_t>(produced.size()) < maxNewTokens &&
         !logits.empty()) {
    int32_t next = static_cast<int32_t>(
        std::max_element(logits.begin(), logits.end()) - logits.begin());
    produced.push_back(next);
    if (llvm::is_contained(stopTokens, next) ||
        static_cast<int64_t>(produced.size()) >= maxNewTokens ||
        getCacheLength() >= getMaxContext())
      break;
    if (Error err = forward(next, &logits, /*allLogits=*/false))
      return std::move(err);
  }
  return produced;
}
