//===- Plan.h - The result of mixed-scheme quantization ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A `Plan` assigns every linear layer a quantizer (with its kernel kind) and
// every block a fusion partition, and records how good and how certain the
// assignment is: the objective sum_l a_l * err(q_l), the solver's proven
// bound and gap, memory and predicted latency. It is written as JSON (the
// reference's layer keys and quantizer names) and as a readable summary.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_ALLOC_PLAN_H
#define QPAL_ALLOC_PLAN_H

#include "qpal/Alloc/ModelShape.h"
#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <optional>
#include <vector>

namespace qpal::alloc {

/// Which bytes a memory budget counts.
enum class MemoryModel : uint8_t {
  /// The reference's `get_layer_mem`: packed codes + one fp16 codebook per
  /// layer; per-row scales and sign vectors are not counted.
  Reference,
  /// Everything qpal stores: codes + codebook + fp16 per-row scales per
  /// layer (`QuantizerSpec::storageBytes`) + the packed sign vectors.
  Full,
};
/// Returns `reference` or `full`.
llvm::StringRef stringifyMemoryModel(MemoryModel model);
/// Parses `reference` or `full`.
llvm::Expected<MemoryModel> parseMemoryModel(llvm::StringRef text);

/// Bytes of a quantized model's linear layers, by kind.
struct MemoryBreakdown {
  uint64_t codeBytes = 0;
  uint64_t codebookBytes = 0;
  uint64_t scaleBytes = 0;
  uint64_t signBytes = 0;
  /// The fp16 size of the same layers (the denominator of average bits).
  uint64_t fp16Bytes = 0;

  /// Bytes counted by `model`.
  uint64_t bytes(MemoryModel model) const;
  /// 16 * bytes(model) / fp16Bytes: the reference's definition for
  /// `Reference` (codes + codebooks), qpal's for `Full`.
  double avgBits(MemoryModel model) const;
  /// Adds one layer's storage.
  void addLayer(const QuantizerSpec &quantizer, LayerShape shape);
};

/// The choices for one transformer block.
struct BlockPlan {
  /// The quantizer (and kernel kind) of each projection, by `Projection`.
  std::array<QuantizerSpec, kNumProjections> quantizers;
  /// An exact cover of the seven projections by fusion groups (singletons
  /// included), in `FusionGroup` order.
  std::vector<FusionGroup> groups;

  const QuantizerSpec &quantizer(Projection projection) const {
    return quantizers[static_cast<unsigned>(projection)];
  }
  /// The multi-member groups, as the reference's merge_info lists them.
  std::vector<FusionGroup> fusedGroups() const;
  /// Adds a singleton group for every projection no group covers yet and
  /// puts the groups in `FusionGroup` order.
  void coverWithSingletons();
};

/// How certain the plan is.
enum class SolveStatus : uint8_t {
  /// The solver proved the gap to be within the requested tolerance.
  Optimal,
  /// The time limit ended the search with a feasible plan; `gap` says how
  /// far from optimal it may be.
  Feasible,
  /// Not solved here (a uniform plan, or one read from a file without a
  /// status).
  Unsolved,
};
/// Returns `optimal`, `feasible` or `unsolved`.
llvm::StringRef stringifySolveStatus(SolveStatus status);

/// A mixed-scheme quantization plan and its certificate.
struct Plan {
  /// The model the plan is for.
  ModelConfig model;
  /// One entry per block.
  std::vector<BlockPlan> blocks;

  SolveStatus status = SolveStatus::Unsolved;
  /// sum_l a_l * err(q_l) of the plan.
  double objective = 0;
  /// The solver's proven lower bound on the objective.
  double bound = 0;
  /// (objective - bound) / objective.
  double gap = 0;
  /// The relative gap the solver was asked for.
  double gapTarget = 0;
  /// The memory model of the budget (and of `avg_bits` in the summary).
  MemoryModel memoryModel = MemoryModel::Full;
  /// Bytes by kind.
  MemoryBreakdown memory;
  /// Predicted seconds per decode step, when a latency model was given.
  std::optional<double> secondsPerToken;
  /// The latency model's description.
  std::string latencyModel;
  /// The budgets the plan was solved for.
  std::optional<double> budgetBitsPerWeight;
  std::optional<uint64_t> budgetBytes;
  std::optional<double> budgetTokensPerSecond;
  /// The objective of ideal Gaussian quantizers (err = 2^-2b, continuous
  /// bits) at the same memory budget, for memory-constrained problems.
  std::optional<double> informationTheoreticObjective;
  /// What proved the plan: `cbc` or `lagrangian-dp`.
  std::string solver;
  /// Wall-clock seconds of the solve (MIP or DP) and branch-and-bound
  /// nodes (0 for the DP).
  double solveSeconds = 0;
  int64_t nodes = 0;
  /// Binaries of the full formulation, after dropping dominated choices,
  /// and constraints.
  uint64_t variables = 0;
  uint64_t variablesAfterPruning = 0;
  uint64_t constraints = 0;
  /// Remarks of the planner (e.g. ties re-fused to save latency).
  std::vector<std::string> notes;

  /// 1 / secondsPerToken.
  std::optional<double> tokensPerSecond() const;
};

/// Serializes a plan. Keys: `status`, `objective`, `bound`, `gap`,
/// `avg_bits` (reference definition), `avg_bits_full`, `memory_bytes`,
/// `predicted_seconds_per_token` and `predicted_tokens_per_second` (when
/// predicted), `plan` (reference layer key -> reference quantizer name,
/// `:simt` for CUDA-core kernels), `fusion` (block index as a string ->
/// fused group names, e.g. ["qkv", "ug"]), `solve_seconds`, `nodes`,
/// `variables`, `solver`, `model`, and the budgets.
llvm::json::Value toJson(const Plan &plan);
/// Reads what `toJson` writes; only `plan` and `model` are required (a
/// reference qdict of the same key format works with a `model` added).
llvm::Expected<Plan> planFromJson(const llvm::json::Value &json);

/// Prints a per-block table (rows = blocks; columns q k v o gate up down
/// with the chosen bits per weight, `s` for SIMT kernels, and the fused
/// groups), counts per quantizer, memory, average bits, predicted latency
/// and the objective against the bound and the information-theoretic line.
void printSummary(const Plan &plan, llvm::raw_ostream &os);

/// Draws `plan` as an SVG document (the paper's Figure-1 view): one column
/// per block, one row per role, colour = bits per weight, a ring for SIMT
/// kernels, fused groups outlined, the budget, prediction and objective in
/// the title.
std::string renderPlanSvg(const Plan &plan);

/// Reports a plan whose groups do not cover each block exactly once or whose
/// fused members do not share one quantizer and kernel kind.
llvm::Error verifyCover(const Plan &plan);

/// Completes a plan whose blocks name every projection's quantizer and list
/// only their multi-member fusion groups: adds the singleton groups, orders
/// each block's groups, checks the cover (`verifyCover`) and sums the
/// memory. `planFromJson` and `qpal compile` (reading a lowered module's
/// choices back) build plans this way.
llvm::Error completePlan(Plan &plan);

} // namespace qpal::alloc

#endif // QPAL_ALLOC_PLAN_H
