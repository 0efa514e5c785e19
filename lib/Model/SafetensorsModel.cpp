//===- SafetensorsModel.cpp - ModelFile over a Hugging Face checkpoint ----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A Hugging Face Llama checkpoint: `config.json` plus either one
// `model.safetensors` or shards listed by `model.safetensors.index.json`
// (`{"weight_map": {"tensor name": "shard file name"}}`). Tensor names are
// already canonical and q/k are already in the half-split RoPE layout.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Safetensors.h"
#include "qpal/Support/Json.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

Expected<llvm::json::Value> readJsonFile(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot open '" + path +
                                       "': " + buffer.getError().message());
  Expected<llvm::json::Value> value =
      qpal::parseJsonBounded((*buffer)->getBuffer(), "'" + path.str() + "'");
  if (!value)
    return value.takeError();
  return value;
}

class SafetensorsModel final : public ModelFile {
public:
  explicit SafetensorsModel(std::string path)
      : ModelFile(ModelFormat::Safetensors, std::move(path)) {}

  Error initialize(StringRef directory, StringRef indexPath,
                   StringRef singlePath);

protected:
  Error readStored(const TensorInfo &tensor,
                   llvm::MutableArrayRef<float> out) const override;
  llvm::ArrayRef<uint8_t>
  getStoredBytes(const TensorInfo &tensor) const override;

private:
  Error readConfig(StringRef configPath);
  Error addShard(StringRef shardPath);

  std::vector<std::unique_ptr<SafetensorsFile>> shards;
  /// For each tensor (same order as `tensors`): its shard.
  std::vector<size_t> tensorShard;
};

} // namespace

Error SafetensorsModel::readConfig(StringRef configPath) {
  Expected<llvm::json::Value> json = readJsonFile(configPath);
  if (!json)
    return json.takeError();
  const llvm::json::Object *object = json->getAsObject();
  auto fail = [&](const llvm::Twine &message) {
    return llvm::createStringError(configPath + ": " + message);
  };
  if (!object)
    return fail("not a JSON object");
  auto integer = [&](StringRef key, int64_t &out, bool required) -> Error {
    const llvm::json::Value *value = object->get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return required ? fail("missing integer '" + key + "'")
                      : Error::success();
    std::optional<int64_t> integer = value->getAsInteger();
    if (!integer)
      return fail("'" + key + "' must be an integer");
    out = *integer;
    return Error::success();
  };
  auto number = [&](const llvm::json::Object &from, StringRef key,
                    double &out) -> Error {
    const llvm::json::Value *value = from.get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return Error::success();
    std::optional<double> number = value->getAsNumber();
    if (!number)
      return fail("'" + key + "' must be a number");
    out = *number;
    return Error::success();
  };
  config.architecture = object->getString("model_type").value_or("").str();
  if (config.architecture.empty())
    return fail("missing string 'model_type'");
  if (std::optional<StringRef> name = object->getString("_name_or_path"))
    config.name = name->str();
  if (Error err = integer("hidden_size", config.hiddenSize, true))
    return err;
  if (Error err = integer("intermediate_size", config.intermediateSize, true))
    return err;
  if (Error err = integer("num_hidden_layers", config.numLayers, true))
    return err;
  if (Error err = integer("num_attention_heads", config.numHeads, true))
    return err;
  config.numKvHeads = config.numHeads;
  if (Error err = integer("num_key_value_heads", config.numKvHeads, false))
    return err;
  if (Error err = integer("vocab_size", config.vocabSize, true))
    return err;
  if (Error err =
          integer("max_position_embeddings", config.contextLength, false))
    return err;
  if (config.numHeads > 0)
    config.headDim = config.hiddenSize / config.numHeads;
  if (Error err = integer("head_dim", config.headDim, false))
    return err;
  config.ropeDim = config.headDim;
  if (Error err = number(*object, "rope_theta", config.ropeTheta))
    return err;
  if (Error err = number(*object, "rms_norm_eps", config.rmsNormEps))
    return err;
  config.tiedEmbeddings =
      object->getBoolean("tie_word_embeddings").value_or(false);

  if (const llvm::json::Object *scaling = object->getObject("rope_scaling")) {
    StringRef type = scaling->getString("rope_type")
                         .value_or(scaling->getString("type").value_or(""));
    RopeScaling &out = config.ropeScaling;
    if (type == "llama3") {
      out.type = RopeScalingType::Llama3;
      double original = static_cast<double>(out.originalContextLength);
      if (Error err =
              number(*scaling, "original_max_position_embeddings", original))
        return err;
      out.originalContextLength = static_cast<int64_t>(original);
      if (Error err = number(*scaling, "low_freq_factor", out.lowFreqFactor))
        return err;
      if (Error err = number(*scaling, "high_freq_factor", out.highFreqFactor))
        return err;
      if (!(out.highFreqFactor > out.lowFreqFactor))
        return fail("rope_scaling high_freq_factor must exceed "
                    "low_freq_factor");
    } else if (type == "linear") {
      out.type = RopeScalingType::Linear;
    } else if (type != "default" && !type.empty()) {
      return fail("unsupported rope_scaling type '" + type + "'");
    }
    if (Error err = number(*scaling, "factor", out.factor))
      return err;
  }
  return Error::success();
}

Error SafetensorsModel::addShard(StringRef shardPath) {
  Expected<std::unique_ptr<SafetensorsFile>> shard =
      SafetensorsFile::open(shardPath);
  if (!shard)
    return shard.takeError();
  for (const SafetensorsTensorInfo &info : (*shard)->getTensors()) {
    TensorInfo tensor;
    tensor.name = info.name;
    tensor.sourceName = info.name;
    tensor.shape = info.shape;
    tensor.type = info.type;
    tensor.numElements = info.numElements;
    if (Error err = addTensor(std::move(tensor)))
      return err;
    tensorShard.push_back(shards.size());
  }
  shards.push_back(std::move(*shard));
  return Error::success();
}

Error SafetensorsModel::initialize(StringRef directory, StringRef indexPath,
                                   StringRef singlePath) {
  llvm::SmallString<256> configPath(directory);
  llvm::sys::path::append(configPath, "config.json");
  if (Error err = readConfig(configPath))
    return err;
  // Without `_name_or_path`, the checkpoint is named by its directory, as
  // Hugging Face names a local checkpoint.
  if (config.name.empty()) {
    llvm::SmallString<256> absolute(directory);
    llvm::sys::fs::make_absolute(absolute);
    llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
    config.name = llvm::sys::path::filename(absolute).str();
  }
  if (!indexPath.empty()) {
    Expected<llvm::json::Value> index = readJsonFile(indexPath);
    if (!index)
      return index.takeError();
    const llvm::json::Object *object = index->getAsObject();
    const llvm::json::Object *weightMap =
        object ? object->getObject("weight_map") : nullptr;
    if (!weightMap)
      return llvm::createStringError(indexPath +
                                     ": missing object 'weight_map'");
    // Shards in first-mention order of a sorted weight map, for determinism.
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto &[name, file] : *weightMap) {
      std::optional<StringRef> fileName = file.getAsString();
      if (!fileName)
        return llvm::createStringError(indexPath + ": weight_map entry '" +
                                       StringRef(name) + "' is not a string");
      entries.emplace_back(name.str(), fileName->str());
    }
    llvm::sort(entries);
    std::vector<std::string> shardNames;
    llvm::StringSet<> seen;
    for (const auto &[name, fileName] : entries) {
      if (llvm::sys::path::filename(fileName) != fileName || fileName == ".." ||
          fileName == ".")
        return llvm::createStringError(indexPath + ": shard name '" + fileName +
                                       "' is not a file name in the "
                                       "checkpoint directory");
      if (seen.insert(fileName).second)
        shardNames.push_back(fileName);
    }
    for (const std::string &shardName : shardNames) {
      llvm::SmallString<256> shardPath(directory);
      llvm::sys::path::append(shardPath, shardName);
      if (Error err = addShard(shardPath))
        return err;
    }
    for (const auto &[name, fileName] : entries) {
      const TensorInfo *tensor = lookupTensor(name);
      if (!tensor ||
          llvm::sys::path::filename(
              shards[tensorShard[tensor - tensors.data()]]->getPath()) !=
              fileName)
        return llvm::createStringError(indexPath + ": tensor '" + name +
                                       "' is not in shard '" + fileName + "'");
    }
  } else {
    if (Error err = addShard(singlePath))
      return err;
  }

  const TensorInfo *embedding = lookupTensor("model.embed_tokens.weight");
  if (!embedding || embedding->shape.size() != 2)
    return llvm::createStringError(
        path + ": missing 2-D tensor 'model.embed_tokens.weight'");
  if (embedding->shape[0] != config.vocabSize)
    return llvm::createStringError(
        llvm::formatv("{0}: the embedding has {1} rows, config.json says "
                      "vocab_size {2}",
                      path, embedding->shape[0], config.vocabSize));
  if (!lookupTensor("lm_head.weight"))
    config.tiedEmbeddings = true;
  if (Error err = verifyConfig(config))
    return llvm::createStringError(path + ": " +
                                   llvm::toString(std::move(err)));
  return Error::success();
}

Error SafetensorsModel::readStored(const TensorInfo &tensor,
                                   llvm::MutableArrayRef<float> out) const {
  size_t index = &tensor - tensors.data();
  const SafetensorsFile &shard = *shards[tensorShard[index]];
  return shard.readTensor(*shard.lookupTensor(tensor.sourceName), out);
}

llvm::ArrayRef<uint8_t>
SafetensorsModel::getStoredBytes(const TensorInfo &tensor) const {
  size_t index = &tensor - tensors.data();
  const SafetensorsFile &shard = *shards[tensorShard[index]];
  return shard.getTensorData(*shard.lookupTensor(tensor.sourceName));
}

Expected<std::unique_ptr<ModelFile>>
qpal::model::openSafetensorsModel(StringRef path) {
  llvm::SmallString<256> directory, indexPath, singlePath;
  if (llvm::sys::fs::is_directory(path)) {
    directory = path;
    llvm::SmallString<256> candidate(path);
    llvm::sys::path::append(candidate, "model.safetensors.index.json");
    if (llvm::sys::fs::exists(candidate)) {
      indexPath = candidate;
    } else {
      singlePath = path;
      llvm::sys::path::append(singlePath, "model.safetensors");
    }
  } else {
    directory = llvm::sys::path::parent_path(path);
    if (directory.empty())
      directory = ".";
    if (path.ends_with(".json"))
      indexPath = path;
    else
      singlePath = path;
  }
  auto model = std::make_unique<SafetensorsModel>(path.str());
  if (Error err = model->initialize(directory, indexPath, singlePath))
    return std::move(err);
  return std::move(model);
}
