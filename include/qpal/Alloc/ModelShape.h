//===- ModelShape.h - Linear layers and fusion groups of a block -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The shapes MSQ plans over: the seven linear projections of a Llama-style
// transformer block (q, k, v, o, gate, up, down), the fusion groups that may
// share one GEMM (q|k|v, qk|v, kv|q, qv|k, qkv; u|g, ug), and a model
// configuration that gives every projection its M x K shape. lib/Model fills
// `ModelConfig` from a checkpoint's config; `llama-3.1-8b` is built in.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_ALLOC_MODELSHAPE_H
#define QPAL_ALLOC_MODELSHAPE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace qpal::alloc {

/// The linear projections of one transformer block, in the reference's layer
/// order (`lidx` in solve_mem_const.py).
enum class Projection : uint8_t { Q, K, V, O, Gate, Up, Down };
/// Number of `Projection` values.
constexpr unsigned kNumProjections = 7;
/// All projections in reference order.
constexpr std::array<Projection, kNumProjections> kAllProjections = {
    Projection::Q,    Projection::K,  Projection::V,   Projection::O,
    Projection::Gate, Projection::Up, Projection::Down};

/// Returns the reference's module path (`self_attn.q_proj`, `mlp.up_proj`).
llvm::StringRef projectionModulePath(Projection projection);
/// Returns the short column name of the summary table (`q`, `gate`, ...).
llvm::StringRef projectionShortName(Projection projection);

/// Returns the reference key of one layer: `"{block}_{module path}"`, e.g.
/// `"0_self_attn.q_proj"` or `"31_mlp.down_proj"`.
std::string layerKey(unsigned block, Projection projection);
/// Parses a reference layer key; errors name the malformed part.
llvm::Expected<std::pair<unsigned, Projection>>
parseLayerKey(llvm::StringRef key);

/// A set of projections of one block that runs as one GEMM over
/// row-concatenated weights. Members share the input (and its rotation), one
/// quantizer and one kernel kind. Names are the latency table's: u = up,
/// g = gate, d = down.
enum class FusionGroup : uint8_t {
  Q,
  K,
  V,
  O,
  Up,
  Gate,
  Down,
  QK,
  KV,
  QV,
  QKV,
  UG
};
/// Number of `FusionGroup` values.
constexpr unsigned kNumFusionGroups = 12;
/// All groups: the seven singletons, then the fused ones.
constexpr std::array<FusionGroup, kNumFusionGroups> kAllFusionGroups = {
    FusionGroup::Q,  FusionGroup::K,    FusionGroup::V,    FusionGroup::O,
    FusionGroup::Up, FusionGroup::Gate, FusionGroup::Down, FusionGroup::QK,
    FusionGroup::KV, FusionGroup::QV,   FusionGroup::QKV,  FusionGroup::UG};
/// The five multi-member groups.
constexpr std::array<FusionGroup, 5> kFusedGroups = {
    FusionGroup::QK, FusionGroup::KV, FusionGroup::QV, FusionGroup::QKV,
    FusionGroup::UG};

/// Returns the latency-table name of `group` (`q`, ..., `qkv`, `ug`).
llvm::StringRef fusionGroupName(FusionGroup group);
/// Parses a latency-table group name; also accepts the reference's
/// merge_info spelling (`merge_qkv`).
llvm::Expected<FusionGroup> parseFusionGroup(llvm::StringRef name);
/// Returns the members of `group` in the row order of the fused weight
/// (qk = [q; k], kv = [k; v], qv = [q; v], qkv = [q; k; v], ug = [up; gate]).
llvm::ArrayRef<Projection> fusionGroupMembers(FusionGroup group);
/// Returns the group that holds `projection` alone.
FusionGroup singletonGroup(Projection projection);
/// Returns true when `group` has more than one member.
bool isFusedGroup(FusionGroup group);
/// Returns true when `group` contains `projection`.
bool groupContains(FusionGroup group, Projection projection);

/// The M x K (out_features x in_features) shape of one weight.
struct LayerShape {
  int64_t rows = 0;
  int64_t cols = 0;
  /// Number of weights.
  uint64_t weights() const {
    return static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  }
  bool operator==(const LayerShape &other) const {
    return rows == other.rows && cols == other.cols;
  }
};

/// The dimensions of a Llama-style decoder that fix every linear layer's
/// shape. lib/Model fills it from a checkpoint's config (`hidden_size`,
/// `intermediate_size`, `num_attention_heads`, `num_key_value_heads`,
/// `head_dim`, `num_hidden_layers`, `vocab_size`).
struct ModelConfig {
  /// A name for reports, e.g. `llama-3.1-8b`.
  std::string name;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  /// Number of transformer blocks.
  int64_t numBlocks = 0;
  /// Vocabulary size (the fp16 lm_head is outside MSQ; cost models use it).
  int64_t vocabSize = 0;

  /// Llama-3.1-8B: hidden 4096, 32 heads of 128, 8 KV heads (kv 1024),
  /// intermediate 14336, 32 blocks, vocabulary 128256.
  static ModelConfig llama31_8b();
  /// Returns a built-in configuration by name (`llama-3.1-8b`).
  static llvm::Expected<ModelConfig> byName(llvm::StringRef name);

  /// Reports a non-positive or inconsistent dimension.
  llvm::Error verify() const;
  /// The shape of one projection's weight.
  LayerShape shape(Projection projection) const;
  /// The shape of a group's fused weight: members' rows summed, shared K.
  LayerShape shape(FusionGroup group) const;
  /// Weights of all quantized linear layers of the model.
  uint64_t linearWeights() const;
  /// Bytes of the fp16 linear weights of the model (the bits baseline).
  uint64_t fp16LinearBytes() const { return linearWeights() * 2; }
  /// Bytes of one block's packed random-sign vectors: one bit per input
  /// feature for each rotation domain (q/k/v share one, o has one, gate/up
  /// share one, down has one).
  uint64_t signBytesPerBlock() const;
};

} // namespace qpal::alloc

#endif // QPAL_ALLOC_MODELSHAPE_H
