//===- ModelShape.cpp - Linear layers and fusion groups of a block --------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/ModelShape.h"

#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Support/Limits.h"

#include "llvm/Support/FormatVariadic.h"

using namespace qpal;
using namespace qpal::alloc;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// Projections and layer keys
//===----------------------------------------------------------------------===//

StringRef alloc::projectionModulePath(Projection projection) {
  switch (projection) {
  case Projection::Q:
    return "self_attn.q_proj";
  case Projection::K:
    return "self_attn.k_proj";
  case Projection::V:
    return "self_attn.v_proj";
  case Projection::O:
    return "self_attn.o_proj";
  case Projection::Gate:
    return "mlp.gate_proj";
  case Projection::Up:
    return "mlp.up_proj";
  case Projection::Down:
    return "mlp.down_proj";
  }
  llvm_unreachable("unknown projection");
}

StringRef alloc::projectionShortName(Projection projection) {
  switch (projection) {
  case Projection::Q:
    return "q";
  case Projection::K:
    return "k";
  case Projection::V:
    return "v";
  case Projection::O:
    return "o";
  case Projection::Gate:
    return "gate";
  case Projection::Up:
    return "up";
  case Projection::Down:
    return "down";
  }
  llvm_unreachable("unknown projection");
}

std::string alloc::layerKey(unsigned block, Projection projection) {
  return llvm::formatv("{0}_{1}", block, projectionModulePath(projection))
      .str();
}

llvm::Expected<std::pair<unsigned, Projection>>
alloc::parseLayerKey(StringRef key) {
  auto [blockText, path] = key.split('_');
  unsigned block;
  if (path.empty() || blockText.getAsInteger(10, block))
    return makeError(llvm::formatv(
        "layer key '{0}': expected '{{block}_{{self_attn|mlp}.{{proj}'", key));
  for (Projection projection : kAllProjections)
    if (path == projectionModulePath(projection))
      return std::make_pair(block, projection);
  return makeError(
      llvm::formatv("layer key '{0}': unknown projection '{1}' (expected "
                    "self_attn.{{q,k,v,o}_proj or mlp.{{gate,up,down}_proj)",
                    key, path));
}

//===----------------------------------------------------------------------===//
// Fusion groups
//===----------------------------------------------------------------------===//

StringRef alloc::fusionGroupName(FusionGroup group) {
  switch (group) {
  case FusionGroup::Q:
    return "q";
  case FusionGroup::K:
    return "k";
  case FusionGroup::V:
    return "v";
  case FusionGroup::O:
    return "o";
  case FusionGroup::Up:
    return "u";
  case FusionGroup::Gate:
    return "g";
  case FusionGroup::Down:
    return "d";
  case FusionGroup::QK:
    return "qk";
  case FusionGroup::KV:
    return "kv";
  case FusionGroup::QV:
    return "qv";
  case FusionGroup::QKV:
    return "qkv";
  case FusionGroup::UG:
    return "ug";
  }
  llvm_unreachable("unknown fusion group");
}

llvm::Expected<FusionGroup> alloc::parseFusionGroup(StringRef name) {
  StringRef bare = name;
  bare.consume_front("merge_");
  for (FusionGroup group : kAllFusionGroups)
    if (bare == fusionGroupName(group))
      return group;
  return makeError(llvm::formatv(
      "unknown fusion group '{0}': expected one of q, k, v, o, u, g, d, qk, "
      "kv, qv, qkv, ug",
      name));
}

llvm::ArrayRef<Projection> alloc::fusionGroupMembers(FusionGroup group) {
  static const Projection q[] = {Projection::Q}, k[] = {Projection::K},
                          v[] = {Projection::V}, o[] = {Projection::O},
                          u[] = {Projection::Up}, g[] = {Projection::Gate},
                          d[] = {Projection::Down},
                          qk[] = {Projection::Q, Projection::K},
                          kv[] = {Projection::K, Projection::V},
                          qv[] = {Projection::Q, Projection::V},
                          qkv[] = {Projection::Q, Projection::K, Projection::V},
                          ug[] = {Projection::Up, Projection::Gate};
  switch (group) {
  case FusionGroup::Q:
    return q;
  case FusionGroup::K:
    return k;
  case FusionGroup::V:
    return v;
  case FusionGroup::O:
    return o;
  case FusionGroup::Up:
    return u;
  case FusionGroup::Gate:
    return g;
  case FusionGroup::Down:
    return d;
  case FusionGroup::QK:
    return qk;
  case FusionGroup::KV:
    return kv;
  case FusionGroup::QV:
    return qv;
  case FusionGroup::QKV:
    return qkv;
  case FusionGroup::UG:
    return ug;
  }
  llvm_unreachable("unknown fusion group");
}

FusionGroup alloc::singletonGroup(Projection projection) {
  switch (projection) {
  case Projection::Q:
    return FusionGroup::Q;
  case Projection::K:
    return FusionGroup::K;
  case Projection::V:
    return FusionGroup::V;
  case Projection::O:
    return FusionGroup::O;
  case Projection::Gate:
    return FusionGroup::Gate;
  case Projection::Up:
    return FusionGroup::Up;
  case Projection::Down:
    return FusionGroup::Down;
  }
  llvm_unreachable("unknown projection");
}

bool alloc::isFusedGroup(FusionGroup group) {
  return fusionGroupMembers(group).size() > 1;
}

bool alloc::groupContains(FusionGroup group, Projection projection) {
  return llvm::is_contained(fusionGroupMembers(group), projection);
}

//===----------------------------------------------------------------------===//
// ModelConfig
//===----------------------------------------------------------------------===//

ModelConfig ModelConfig::llama31_8b() {
  ModelConfig config;
  config.name = "llama-3.1-8b";
  config.hiddenSize = 4096;
  config.intermediateSize = 14336;
  config.numHeads = 32;
  config.numKvHeads = 8;
  config.headDim = 128;
  config.numBlocks = 32;
  config.vocabSize = 128256;
  return config;
}

llvm::Expected<ModelConfig> ModelConfig::byName(StringRef name) {
  std::string lower = name.lower();
  if (lower == "llama-3.1-8b" || lower == "llama31-8b" || lower == "3_8b")
    return llama31_8b();
  return makeError(llvm::formatv(
      "unknown built-in model '{0}': expected 'llama-3.1-8b' (or give the "
      "model's dimensions)",
      name));
}

llvm::Error ModelConfig::verify() const {
  struct Field {
    const char *name;
    int64_t value;
  } fields[] = {
      {"hidden size", hiddenSize},   {"intermediate size", intermediateSize},
      {"number of heads", numHeads}, {"number of KV heads", numKvHeads},
      {"head dimension", headDim},   {"number of blocks", numBlocks}};
  for (const Field &field : fields)
    if (field.value <= 0)
      return makeError(llvm::formatv("model '{0}': {1} must be positive, got "
                                     "{2}",
                                     name, field.name, field.value));
  if (vocabSize < 0)
    return makeError(llvm::formatv(
        "model '{0}': vocabulary size must not be negative, got {1}", name,
        vocabSize));
  if (numHeads % numKvHeads != 0)
    return makeError(llvm::formatv(
        "model '{0}': {1} heads are not a multiple of {2} KV heads", name,
        numHeads, numKvHeads));
  // Bounded before any product is formed: no shape, byte count or message
  // below can overflow.
  for (const Field &field : fields)
    if (llvm::Error err = checkBounds(
            llvm::formatv("model '{0}': the {1}", name, field.name).str(),
            field.value, 1, kMaxMatrixDim))
      return err;
  if (llvm::Error err = checkBounds(
          llvm::formatv("model '{0}': the vocabulary size", name).str(),
          vocabSize, 0, kMaxMatrixDim))
    return err;
  for (Projection projection : kAllProjections) {
    LayerShape layer = shape(projection);
    if (llvm::Error err =
            checkMatrixShape(llvm::formatv("model '{0}': the {1} shape", name,
                                           projectionModulePath(projection))
                                 .str(),
                             layer.rows, layer.cols))
      return err;
  }
  return llvm::Error::success();
}

LayerShape ModelConfig::shape(Projection projection) const {
  switch (projection) {
  case Projection::Q:
    return {numHeads * headDim, hiddenSize};
  case Projection::K:
  case Projection::V:
    return {numKvHeads * headDim, hiddenSize};
  case Projection::O:
    return {hiddenSize, numHeads * headDim};
  case Projection::Gate:
  case Projection::Up:
    return {intermediateSize, hiddenSize};
  case Projection::Down:
    return {hiddenSize, intermediateSize};
  }
  llvm_unreachable("unknown projection");
}

LayerShape ModelConfig::shape(FusionGroup group) const {
  LayerShape result;
  for (Projection member : fusionGroupMembers(group)) {
    LayerShape memberShape = shape(member);
    result.rows += memberShape.rows;
    result.cols = memberShape.cols;
  }
  return result;
}

uint64_t ModelConfig::linearWeights() const {
  uint64_t perBlock = 0;
  for (Projection projection : kAllProjections)
    perBlock += shape(projection).weights();
  return perBlock * static_cast<uint64_t>(numBlocks);
}

uint64_t ModelConfig::signBytesPerBlock() const {
  return signVectorBytes(hiddenSize) +         // q/k/v
         signVectorBytes(numHeads * headDim) + // o
         signVectorBytes(hiddenSize) +         // gate/up
         signVectorBytes(intermediateSize);    // down
}
