//===- Msq.h - Mixed-scheme quantization as an exact MIP --------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Mixed-scheme quantization (MSQ, kernels-and-msq.md Part B): choose for
// every linear layer one quantizer of a palette (and, for SQ/VQ, a
// tensor-core or SIMT kernel) and for every block a fusion partition, to
//
//   minimize  sum_l a_l * err(q_l)                     (linearity theorem)
//   s.t.      memory(plan)  <= memory budget           (optional)
//             constant + sum_{blocks, groups} latency <= 1 / tokens per s
//                                                      (optional)
//
// Members of a fused group share one quantizer and kernel. The problem is
// solved exactly as a mixed-integer program with CBC (one binary per block,
// group, quantizer and kernel kind); problems with a single budget are by
// default solved to proven optimality by a Lagrangian + Pareto DP method that
// closes the last 0.01% faster than CBC's branching. The plan carries the
// proven bound and gap either way.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_ALLOC_MSQ_H
#define QPAL_ALLOC_MSQ_H

#include "qpal/Alloc/Inputs.h"
#include "qpal/Alloc/LatencyModel.h"
#include "qpal/Alloc/LayerErrors.h"
#include "qpal/Alloc/Plan.h"

#include <memory>

namespace qpal::alloc {

/// One MSQ instance.
struct MsqProblem {
  /// Shapes of the linear layers.
  ModelConfig model = ModelConfig::llama31_8b();
  /// a_l for every layer of `model`.
  Sensitivities sensitivities;
  /// The quantizers to choose from; an SQ/VQ member's `kernel` field picks
  /// its kernel kind (list both kinds to let the planner choose).
  std::vector<QuantizerSpec> palette;
  /// err(q) per quantizer.
  DistortionTable distortion = DistortionTable::expected();
  /// err_l(q) per layer, measured on the model with its calibration
  /// Hessians and modelled for the rest (LayerErrors.h); null: every layer
  /// has `distortion`'s err(q).
  std::shared_ptr<const LayerErrorModel> layerErrors;
  /// The multi-member groups blocks may use (empty: no fusion); the
  /// admissible partitions are those whose groups are all listed.
  std::vector<FusionGroup> fusedGroups;
  /// What the memory budget counts.
  MemoryModel memoryModel = MemoryModel::Full;
  /// Memory budget as average bits per weight of the linear layers (16 *
  /// bytes / fp16 bytes under `memoryModel`).
  std::optional<double> maxBitsPerWeight;
  /// Memory budget in bytes under `memoryModel`.
  std::optional<uint64_t> maxBytes;
  /// Latency budget: predicted decode throughput at batch 1.
  std::optional<double> minTokensPerSecond;
  /// Needed for a latency budget; otherwise used only for predictions.
  /// Either way it must price every palette member for every group.
  std::shared_ptr<const LatencyModel> latency;

  /// Allows every fusion group (qk, kv, qv, qkv, ug).
  void allowAllFusion() {
    fusedGroups.assign(kFusedGroups.begin(), kFusedGroups.end());
  }
};

/// Which exact method solves the problem.
enum class MsqSolver : uint8_t {
  /// `LagrangianDp`, falling back to CBC when its state limit is exceeded
  /// (or the heuristic finds no feasible plan to start from).
  Auto,
  /// The MIP with CBC only.
  Cbc,
  /// One budget or both: Lagrangian bound (one multiplier per budget),
  /// reduced-cost filtering and a Pareto DP over the remaining choices;
  /// proves optimality (gap 0 up to 1e-12 rounding) where CBC's branching
  /// closes the last 0.01% slowly.
  LagrangianDp,
};

/// How hard to try.
struct SolveOptions {
  /// The method; see `MsqSolver`.
  MsqSolver solver = MsqSolver::Auto;
  /// The DP gives up (and `Auto` falls back to CBC) beyond this many
  /// states.
  uint64_t maxDpStates = 4000000;
  /// CBC stops once (objective - bound) / objective is at most this (the
  /// Lagrangian DP always solves to optimality).
  double relativeGap = 1e-4;
  /// Wall-clock limit of the MIP solve; the best plan found is returned
  /// with status `Feasible` when the gap target was not reached.
  double timeLimitSeconds = 60;
  /// Seeds CBC with a Lagrangian + greedy plan.
  bool warmStart = true;
  /// Drops choices that another choice beats in error and in every budgeted
  /// resource (this never changes the optimum).
  bool pruneDominated = true;
  /// After solving, fuses groups whose members got the same quantizer when
  /// that lowers the predicted latency (objective and memory unchanged).
  bool fuseTies = true;
  /// CBC's log level (0 = silent; the log goes to stdout).
  int solverLogLevel = 0;
};

/// Solves `problem`. Errors: inconsistent inputs (sensitivities of another
/// model, a palette member without distortion or latency, a layer no
/// palette member can store), a budget beyond what the palette can reach
/// (naming the budget and the palette's limit), a proven infeasible
/// combination of budgets, and a time limit without any feasible plan.
llvm::Expected<Plan> solveMsq(const MsqProblem &problem,
                              const SolveOptions &options = {});

/// What a plan costs under a problem's models.
struct PlanCosts {
  double objective = 0;
  MemoryBreakdown memory;
  std::optional<double> secondsPerToken;
};
/// Recomputes the objective, memory and (with a latency model) latency of
/// `plan` for `problem`; errors name an invalid cover or a missing entry.
llvm::Expected<PlanCosts> evaluatePlan(const MsqProblem &problem,
                                       const Plan &plan);

/// Every layer stored with `quantizer`; blocks use the groups `fused` (e.g.
/// qkv and ug) plus singletons for the rest.
Plan uniformPlan(const ModelConfig &model, const QuantizerSpec &quantizer,
                 llvm::ArrayRef<FusionGroup> fused = {});

/// Predicted seconds per decode step of `plan` under `latency`.
llvm::Expected<double> predictSecondsPerToken(const Plan &plan,
                                              const LatencyModel &latency);

/// The information-theoretic allocation: ideal Gaussian quantizers with
/// err(b) = 2^(-2b) at continuous rates b_l >= 0, minimizing
/// sum_l a_l 2^(-2 b_l) subject to sum_l n_l b_l = totalBits. Reverse water
/// filling gives b_l = max(0, 1/2 log2(ln(4) a_l / (lambda n_l))); the water
/// level lambda is found by bisection.
struct WaterFilling {
  /// sum_l a_l 2^(-2 b_l) at the optimum.
  double objective = 0;
  /// The Lagrange multiplier lambda.
  double waterLevel = 0;
  /// b_l per layer.
  std::vector<double> bits;
};
/// Solves the allocation above; `sensitivities` and `weights` are per layer.
llvm::Expected<WaterFilling> waterFill(llvm::ArrayRef<double> sensitivities,
                                       llvm::ArrayRef<uint64_t> weights,
                                       double totalBits);
/// The same for every layer of `problem` at `bitsPerWeight` average bits.
llvm::Expected<WaterFilling> waterFill(const MsqProblem &problem,
                                       double bitsPerWeight);

} // namespace qpal::alloc

#endif // QPAL_ALLOC_MSQ_H
