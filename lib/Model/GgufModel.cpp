//===- GgufModel.cpp - ModelFile over a GGUF file -------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The config comes from the `<arch>.*` metadata keys llama.cpp writes; tensor
// names are mapped to the Hugging Face ones, and q/k rows are un-permuted
// from llama.cpp's adjacent-pair RoPE layout to the half-split layout on read.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

class GgufModel final : public ModelFile {
public:
  GgufModel(std::unique_ptr<GgufFile> file)
      : ModelFile(ModelFormat::Gguf, file->getPath().str()),
        file(std::move(file)) {}

  Error initialize();
  const GgufFile *getGguf() const override { return file.get(); }

protected:
  Error readStored(const TensorInfo &tensor,
                   llvm::MutableArrayRef<float> out) const override;
  llvm::ArrayRef<uint8_t>
  getStoredBytes(const TensorInfo &tensor) const override {
    return file->getTensorData(*file->lookupTensor(tensor.sourceName));
  }
  bool isReordered(const TensorInfo &tensor) const override {
    return getPermutedHeads(tensor) != 0;
  }

private:
  Error readConfig();
  /// The heads of llama.cpp's q/k permutation of `tensor`, 0 for a tensor
  /// stored in the canonical layout.
  int64_t getPermutedHeads(const TensorInfo &tensor) const;
  std::unique_ptr<GgufFile> file;
};

} // namespace

Error GgufModel::readConfig() {
  Expected<StringRef> arch = file->getString("general.architecture");
  if (!arch)
    return arch.takeError();
  config.architecture = arch->str();
  if (const GgufValue *name = file->lookup("general.name"))
    config.name = name->getAsString().value_or("").str();
  std::string prefix = (*arch + ".").str();
  auto integer = [&](StringRef key, int64_t &out) -> Error {
    Expected<int64_t> value = file->getInteger(prefix + key.str());
    if (!value)
      return value.takeError();
    out = *value;
    return Error::success();
  };
  auto optionalInteger = [&](StringRef key, int64_t &out) -> Error {
    if (!file->lookup(prefix + key.str()))
      return Error::success();
    return integer(key, out);
  };
  auto optionalDouble = [&](StringRef key, double &out) -> Error {
    if (!file->lookup(prefix + key.str()))
      return Error::success();
    Expected<double> value = file->getDouble(prefix + key.str());
    if (!value)
      return value.takeError();
    out = *value;
    return Error::success();
  };
  if (Error err = integer("embedding_length", config.hiddenSize))
    return err;
  if (Error err = integer("feed_forward_length", config.intermediateSize))
    return err;
  if (Error err = integer("block_count", config.numLayers))
    return err;
  if (Error err = integer("attention.head_count", config.numHeads))
    return err;
  config.numKvHeads = config.numHeads;
  if (Error err = optionalInteger("attention.head_count_kv", config.numKvHeads))
    return err;
  if (Error err = optionalInteger("context_length", config.contextLength))
    return err;
  if (config.numHeads > 0)
    config.headDim = config.hiddenSize / config.numHeads;
  if (Error err = optionalInteger("attention.key_length", config.headDim))
    return err;
  config.ropeDim = config.headDim;
  if (Error err = optionalInteger("rope.dimension_count", config.ropeDim))
    return err;
  if (Error err = optionalDouble("rope.freq_base", config.ropeTheta))
    return err;
  if (Error err =
          optionalDouble("attention.layer_norm_rms_epsilon", config.rmsNormEps))
    return err;

  // RoPE scaling: `rope.scaling.type` ("none", "linear", "yarn") with
  // `rope.scaling.factor`, or the older `rope.scale_linear`.
  RopeScaling &scaling = config.ropeScaling;
  if (const GgufValue *type = file->lookup(prefix + "rope.scaling.type")) {
    StringRef name = type->getAsString().value_or("");
    if (name == "linear") {
      scaling.type = RopeScalingType::Linear;
    } else if (name != "none" && name != "") {
      return llvm::createStringError(llvm::formatv(
          "{0}: unsupported rope scaling type '{1}'", file->getPath(), name));
    }
    if (Error err = optionalDouble("rope.scaling.factor", scaling.factor))
      return err;
  } else if (file->lookup(prefix + "rope.scale_linear")) {
    scaling.type = RopeScalingType::Linear;
    if (Error err = optionalDouble("rope.scale_linear", scaling.factor))
      return err;
  }
  if (scaling.type == RopeScalingType::None)
    scaling.factor = 1.0;
  return Error::success();
}

Error GgufModel::initialize() {
  if (Error err = readConfig())
    return err;
  for (const GgufTensorInfo &info : file->getTensors()) {
    TensorInfo tensor;
    tensor.name = getCanonicalTensorName(info.name);
    tensor.sourceName = info.name;
    // ggml dims are innermost first; ours are outermost first.
    tensor.shape.assign(info.dims.rbegin(), info.dims.rend());
    tensor.type = info.type;
    tensor.numElements = info.numElements;
    if (Error err = addTensor(std::move(tensor)))
      return err;
  }
  const TensorInfo *embedding = lookupTensor("model.embed_tokens.weight");
  if (!embedding || embedding->shape.size() != 2)
    return llvm::createStringError(file->getPath() +
                                   ": missing 2-D tensor 'token_embd.weight'");
  config.vocabSize = embedding->shape[0];
  config.tiedEmbeddings = lookupTensor("lm_head.weight") == nullptr;
  if (Error err = verifyConfig(config))
    return llvm::createStringError(file->getPath() + ": " +
                                   llvm::toString(std::move(err)));
  if (const TensorInfo *freqs = lookupTensor("rope_freqs.weight")) {
    if (freqs->numElements != config.ropeDim / 2)
      return llvm::createStringError(llvm::formatv(
          "{0}: rope_freqs.weight has {1} elements, expected "
          "rope dim / 2 = {2}",
          file->getPath(), freqs->numElements, config.ropeDim / 2));
    std::vector<float> factors(config.ropeDim / 2);
    if (Error err = readStored(*freqs, factors))
      return err;
    config.ropeScaling.frequencyFactors = std::move(factors);
  }
  return Error::success();
}

int64_t GgufModel::getPermutedHeads(const TensorInfo &tensor) const {
  if (config.architecture != "llama")
    return 0;
  StringRef name = tensor.name;
  if (name.ends_with("self_attn.q_proj.weight") ||
      name.ends_with("self_attn.q_proj.bias"))
    return config.numHeads;
  if (name.ends_with("self_attn.k_proj.weight") ||
      name.ends_with("self_attn.k_proj.bias"))
    return config.numKvHeads;
  return 0;
}

Error GgufModel::readStored(const TensorInfo &tensor,
                            llvm::MutableArrayRef<float> out) const {
  const GgufTensorInfo *info = file->lookupTensor(tensor.sourceName);
  if (Error err = file->readTensor(*info, out))
    return err;
  // Undo llama.cpp's q/k permutation: within each head, stored row 2i + s
  // (adjacent-pair RoPE) is Hugging Face row s * d/2 + i (half-split RoPE).
  int64_t heads = getPermutedHeads(tensor);
  if (heads == 0)
    return Error::success();
  int64_t rows = tensor.shape.empty() ? 1 : tensor.shape[0];
  int64_t cols = tensor.numElements / std::max<int64_t>(rows, 1);
  if (rows % heads != 0 || (rows / heads) % 2 != 0)
    return llvm::createStringError(
        llvm::formatv("{0}: tensor '{1}' has {2} rows, not a whole number of "
                      "{3} heads of even width",
                      file->getPath(), tensor.sourceName, rows, heads));
  int64_t headDim = rows / heads, half = headDim / 2;
  std::vector<float> stored(out.begin(), out.end());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t s = 0; s < 2; ++s) {
        const float *src = stored.data() + (h * headDim + 2 * i + s) * cols;
        float *dst = out.data() + (h * headDim + s * half + i) * cols;
        std::copy(src, src + cols, dst);
      }
  return Error::success();
}

static Expected<std::unique_ptr<ModelFile>>
makeGgufModel(Expected<std::unique_ptr<GgufFile>> file) {
  if (!file)
    return file.takeError();
  auto model = std::make_unique<GgufModel>(std::move(*file));
  if (Error err = model->initialize())
    return std::move(err);
  return std::move(model);
}

Expected<std::unique_ptr<ModelFile>>
qpal::model::openGgufModel(StringRef path) {
  return makeGgufModel(GgufFile::open(path));
}

Expected<std::unique_ptr<ModelFile>>
qpal::model::openGgufModel(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  return makeGgufModel(GgufFile::parse(std::move(buffer)));
}
