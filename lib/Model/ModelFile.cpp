//===- ModelFile.cpp - One interface over GGUF and safetensors ------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/ModelFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

ModelFile::~ModelFile() = default;

const TensorInfo *ModelFile::lookupTensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensors[it->second];
}

Error ModelFile::addTensor(TensorInfo tensor) {
  if (!tensorIndex.try_emplace(tensor.name, tensors.size()).second)
    return llvm::createStringError(
        llvm::formatv("{0}: duplicate tensor name '{1}' (from '{2}')", path,
                      tensor.name, tensor.sourceName));
  tensors.push_back(std::move(tensor));
  return Error::success();
}

Error ModelFile::readInto(StringRef name,
                          llvm::MutableArrayRef<float> out) const {
  const TensorInfo *tensor = lookupTensor(name);
  if (!tensor)
    return llvm::createStringError(path + ": no tensor named '" + name + "'");
  if (static_cast<int64_t>(out.size()) != tensor->numElements)
    return llvm::createStringError(
        llvm::formatv("{0}: tensor '{1}' has {2} elements, the buffer {3}",
                      path, name, tensor->numElements, out.size()));
  return readStored(*tensor, out);
}

Expected<std::vector<float>> ModelFile::read(StringRef name) const {
  const TensorInfo *tensor = lookupTensor(name);
  if (!tensor)
    return llvm::createStringError(path + ": no tensor named '" + name + "'");
  std::vector<float> values(static_cast<size_t>(tensor->numElements));
  if (Error err = readStored(*tensor, values))
    return std::move(err);
  return values;
}

Expected<llvm::ArrayRef<uint8_t>>
ModelFile::readStoredBytes(StringRef name) const {
  const TensorInfo *tensor = lookupTensor(name);
  if (!tensor)
    return llvm::createStringError(path + ": no tensor named '" + name + "'");
  if (isReordered(*tensor))
    return llvm::createStringError(
        path + ": tensor '" + tensor->sourceName +
        "' is stored in another layout (llama.cpp's q/k permutation); its "
        "stored bytes are not the canonical tensor");
  std::optional<int64_t> bytes =
      getStorageBytes(tensor->type, tensor->numElements);
  llvm::ArrayRef<uint8_t> data = getStoredBytes(*tensor);
  if (!bytes || static_cast<int64_t>(data.size()) != *bytes)
    return llvm::createStringError(llvm::formatv(
        "{0}: tensor '{1}' holds {2} bytes, not the storage of {3} {4} "
        "elements",
        path, tensor->sourceName, data.size(), tensor->numElements,
        getTensorTypeName(tensor->type)));
  return data;
}

Error qpal::model::verifyConfig(const ModelConfig &c) {
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError("invalid model config: " + message);
  };
  // Bounds that no real Llama exceeds keep the evaluator's arithmetic (and
  // its allocations) sane on hostile files.
  constexpr int64_t maxDim = int64_t(1) << 20;
  struct Field {
    const char *name;
    int64_t value;
  } fields[] = {{"hidden size", c.hiddenSize},
                {"intermediate size", c.intermediateSize},
                {"layer count", c.numLayers},
                {"head count", c.numHeads},
                {"kv head count", c.numKvHeads},
                {"head dim", c.headDim},
                {"vocab size", c.vocabSize}};
  for (const Field &field : fields)
    if (field.value <= 0 || field.value > maxDim * 4)
      return fail(llvm::formatv("{0} must be in [1, {1}], got {2}", field.name,
                                maxDim * 4, field.value));
  if (c.numHeads % c.numKvHeads != 0)
    return fail(llvm::formatv("head count {0} is not a multiple of the kv head "
                              "count {1}",
                              c.numHeads, c.numKvHeads));
  if (c.numHeads * c.headDim > maxDim)
    return fail(llvm::formatv("heads x head dim {0} is too large",
                              c.numHeads * c.headDim));
  if (c.ropeDim <= 0 || c.ropeDim > c.headDim || c.ropeDim % 2 != 0)
    return fail(llvm::formatv("rope dim must be even and in [2, head dim {0}], "
                              "got {1}",
                              c.headDim, c.ropeDim));
  if (!(c.ropeTheta > 0))
    return fail(
        llvm::formatv("rope theta must be positive, got {0}", c.ropeTheta));
  if (!(c.rmsNormEps >= 0))
    return fail(
        llvm::formatv("rms eps must be non-negative, got {0}", c.rmsNormEps));
  if (!(c.ropeScaling.factor > 0))
    return fail(llvm::formatv("rope scaling factor must be positive, got {0}",
                              c.ropeScaling.factor));
  return Error::success();
}

std::string qpal::model::getCanonicalTensorName(StringRef ggufName) {
  static const std::pair<StringRef, StringRef> globals[] = {
      {"token_embd", "model.embed_tokens"},
      {"output_norm", "model.norm"},
      {"output", "lm_head"},
  };
  static const std::pair<StringRef, StringRef> blockParts[] = {
      {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},
      {"attn_output", "self_attn.o_proj"},
      {"ffn_gate", "mlp.gate_proj"},
      {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},
      {"attn_norm", "input_layernorm"},
      {"ffn_norm", "post_attention_layernorm"},
  };
  StringRef base = ggufName, suffix;
  if (ggufName.ends_with(".weight") || ggufName.ends_with(".bias")) {
    size_t dot = ggufName.rfind('.');
    base = ggufName.take_front(dot);
    suffix = ggufName.drop_front(dot);
  }
  for (const auto &[from, to] : globals)
    if (base == from)
      return (to + suffix).str();
  if (base.consume_front("blk.")) {
    auto [index, part] = base.split('.');
    unsigned layer;
    if (!index.getAsInteger(10, layer))
      for (const auto &[from, to] : blockParts)
        if (part == from)
          return ("model.layers." + llvm::Twine(layer) + "." + to + suffix)
              .str();
  }
  return ggufName.str();
}

llvm::ArrayRef<StringRef> qpal::model::getLlamaLinearProjections() {
  static const StringRef projections[] = {
      "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
      "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
      "mlp.down_proj"};
  return projections;
}

std::string qpal::model::getLinearWeightName(int64_t layer, StringRef proj) {
  return ("model.layers." + llvm::Twine(layer) + "." + proj + ".weight").str();
}

std::optional<std::string>
qpal::model::getLinearLayerKey(StringRef canonicalName) {
  StringRef rest = canonicalName;
  if (!rest.consume_front("model.layers.") || !rest.consume_back(".weight"))
    return std::nullopt;
  auto [index, proj] = rest.split('.');
  unsigned layer;
  if (index.getAsInteger(10, layer))
    return std::nullopt;
  if (!llvm::is_contained(getLlamaLinearProjections(), proj))
    return std::nullopt;
  return (llvm::Twine(layer) + "_" + proj).str();
}

Expected<std::unique_ptr<ModelFile>> qpal::model::openModel(StringRef path) {
  if (llvm::sys::fs::is_directory(path))
    return openSafetensorsModel(path);
  if (path.ends_with(".safetensors") || path.ends_with(".json"))
    return openSafetensorsModel(path);
  return openGgufModel(path);
}
