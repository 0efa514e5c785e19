//===- ModelFile.h - One interface over GGUF and safetensors ----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `ModelFile` is what the rest of qpal sees of a Llama-family model, whatever
// its source: a `ModelConfig` and a table of named tensors that read (lazily,
// dequantized) to float32.
//
// Tensor names are canonical: the Hugging Face names
// (`model.layers.3.self_attn.q_proj.weight`, `model.embed_tokens.weight`,
// `model.norm.weight`, `lm_head.weight`); GGUF names (`blk.3.attn_q.weight`,
// `token_embd.weight`, ...) are mapped to them. Shapes are row-major,
// outermost first: a linear weight is [out_features, in_features].
//
// Tensor values are canonical too. llama.cpp's converter permutes the rows of
// q_proj and k_proj so that RoPE rotates adjacent pairs (x[2i], x[2i+1]) (its
// NORM rope mode); Hugging Face checkpoints rotate the halves (x[i],
// x[i + d/2]) (NEOX). `read` undoes the GGUF permutation, so every source
// reads in the Hugging Face layout and the evaluator always applies the
// half-split RoPE.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_MODELFILE_H
#define QPAL_MODEL_MODELFILE_H

#include "qpal/Model/TensorType.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qpal::model {

class GgufFile;

/// Where a model came from.
enum class ModelFormat { Gguf, Safetensors };

/// How RoPE frequencies are rescaled for long contexts.
enum class RopeScalingType { None, Linear, Llama3 };

/// RoPE rescaling parameters (Hugging Face `rope_scaling`, GGUF
/// `<arch>.rope.scaling.*`).
struct RopeScaling {
  /// The kind of scaling.
  RopeScalingType type = RopeScalingType::None;
  /// The context extension factor.
  double factor = 1.0;
  /// Llama 3: wavelengths longer than original/lowFreqFactor are scaled.
  double lowFreqFactor = 1.0;
  /// Llama 3: wavelengths shorter than original/highFreqFactor are kept.
  double highFreqFactor = 4.0;
  /// Llama 3: the context length the model was trained with.
  int64_t originalContextLength = 8192;
  /// Per-frequency divisors (GGUF `rope_freqs.weight`, one per rotated pair);
  /// when present they replace the computed Llama 3 rescaling.
  std::vector<float> frequencyFactors;
};

/// The hyper-parameters of a Llama-family decoder.
struct ModelConfig {
  /// The architecture ("llama").
  std::string architecture;
  /// The model's name, when the file records one.
  std::string name;
  /// The residual stream width.
  int64_t hiddenSize = 0;
  /// The MLP inner width.
  int64_t intermediateSize = 0;
  /// The number of decoder blocks.
  int64_t numLayers = 0;
  /// The number of query heads.
  int64_t numHeads = 0;
  /// The number of key/value heads (grouped-query attention when fewer than
  /// `numHeads`).
  int64_t numKvHeads = 0;
  /// The width of one head.
  int64_t headDim = 0;
  /// How many leading dimensions of a head RoPE rotates (usually `headDim`).
  int64_t ropeDim = 0;
  /// The vocabulary size (rows of the embedding).
  int64_t vocabSize = 0;
  /// The trained context length.
  int64_t contextLength = 0;
  /// The RoPE base frequency.
  double ropeTheta = 10000.0;
  /// RoPE rescaling.
  RopeScaling ropeScaling;
  /// The RMSNorm epsilon.
  double rmsNormEps = 1e-5;
  /// True when the LM head reuses the token embedding.
  bool tiedEmbeddings = false;
};

/// Checks that `config` describes a decoder qpal can evaluate: positive
/// sizes, heads dividing evenly, an even rope dimension.
llvm::Error verifyConfig(const ModelConfig &config);

/// One tensor of a model.
struct TensorInfo {
  /// The canonical (Hugging Face) name.
  std::string name;
  /// The name in the file.
  std::string sourceName;
  /// The shape, row-major, outermost first.
  llvm::SmallVector<int64_t, 4> shape;
  /// The storage type.
  TensorType type = TensorType::F32;
  /// The number of elements.
  int64_t numElements = 0;
};

/// A model file (or a directory of shards) opened for reading.
class ModelFile {
public:
  virtual ~ModelFile();

  /// Returns the source format.
  ModelFormat getFormat() const { return format; }
  /// Returns the path the model was opened from.
  llvm::StringRef getPath() const { return path; }
  /// Returns the model's hyper-parameters.
  const ModelConfig &getConfig() const { return config; }
  /// Returns every tensor, in file order.
  llvm::ArrayRef<TensorInfo> getTensors() const { return tensors; }
  /// Returns the tensor with canonical name `name`, or null.
  const TensorInfo *lookupTensor(llvm::StringRef name) const;

  /// Reads tensor `name` (canonical) as float32 in the canonical layout.
  llvm::Expected<std::vector<float>> read(llvm::StringRef name) const;
  /// Reads tensor `name` into `out`, which must hold exactly its elements.
  llvm::Error readInto(llvm::StringRef name,
                       llvm::MutableArrayRef<float> out) const;

  /// Returns the bytes of tensor `name` (canonical) exactly as the file
  /// stores them, in its storage type (`lookupTensor(name)->type`): the
  /// canonical layout, with no conversion. Fails for a tensor whose canonical
  /// layout differs from the stored one (GGUF's permuted q/k projections of
  /// a Llama model). The bytes live as long as the model file.
  llvm::Expected<llvm::ArrayRef<uint8_t>>
  readStoredBytes(llvm::StringRef name) const;

  /// Returns the GGUF file behind this model, or null for other formats.
  virtual const GgufFile *getGguf() const { return nullptr; }

protected:
  ModelFile(ModelFormat format, std::string path)
      : format(format), path(std::move(path)) {}
  /// Reads `tensor` as stored in the file (no layout change) into `out`.
  virtual llvm::Error readStored(const TensorInfo &tensor,
                                 llvm::MutableArrayRef<float> out) const = 0;
  /// Returns `tensor`'s bytes as stored in the file.
  virtual llvm::ArrayRef<uint8_t>
  getStoredBytes(const TensorInfo &tensor) const = 0;
  /// Returns true when reading `tensor` reorders what the file stores.
  virtual bool isReordered(const TensorInfo &tensor) const { return false; }
  /// Adds `tensor` to the table; fails on a duplicate canonical name.
  llvm::Error addTensor(TensorInfo tensor);

  ModelFormat format;
  std::string path;
  ModelConfig config;
  std::vector<TensorInfo> tensors;
  llvm::StringMap<size_t> tensorIndex;
};

/// Opens a model: a `.gguf` file, a `.safetensors` file, a
/// `model.safetensors.index.json`, or a Hugging Face directory holding
/// `config.json` and the safetensors file(s).
llvm::Expected<std::unique_ptr<ModelFile>> openModel(llvm::StringRef path);

/// Opens a GGUF model file.
llvm::Expected<std::unique_ptr<ModelFile>> openGgufModel(llvm::StringRef path);

/// Opens a GGUF model held in `buffer` (which the model takes ownership of).
llvm::Expected<std::unique_ptr<ModelFile>>
openGgufModel(std::unique_ptr<llvm::MemoryBuffer> buffer);

/// Opens a Hugging Face checkpoint: `path` is the directory, a single
/// `.safetensors` file or the shard index; `config.json` is read from the
/// same directory.
llvm::Expected<std::unique_ptr<ModelFile>>
openSafetensorsModel(llvm::StringRef path);

/// Returns the canonical name of a GGUF tensor name (`blk.3.attn_q.weight` ->
/// `model.layers.3.self_attn.q_proj.weight`); unknown names map to themselves.
std::string getCanonicalTensorName(llvm::StringRef ggufName);

/// Returns the fake-quantization layer key of a canonical linear weight name
/// (`model.layers.3.self_attn.q_proj.weight` -> `3_self_attn.q_proj`,
/// `model.layers.3.mlp.down_proj.weight` -> `3_mlp.down_proj`), or
/// std::nullopt for tensors that are not block linear weights.
std::optional<std::string> getLinearLayerKey(llvm::StringRef canonicalName);

/// Returns the canonical name of linear `proj` ("q_proj", ..., "down_proj")
/// of block `layer`.
std::string getLinearWeightName(int64_t layer, llvm::StringRef proj);

/// The seven linear projections of a Llama block, in evaluation order.
llvm::ArrayRef<llvm::StringRef> getLlamaLinearProjections();

} // namespace qpal::model

#endif // QPAL_MODEL_MODELFILE_H
