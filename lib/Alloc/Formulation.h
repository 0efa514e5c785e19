//===- Formulation.h - The MSQ choice structure (private) -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// What the MIP is built from: for every fusion group the admissible
// (quantizer, kernel) options with their error, latency and bytes (the same
// for every block; only the sensitivities differ), the admissible partitions
// of each block segment, and the budgets net of fixed costs. Also the
// Lagrangian + greedy heuristic that seeds CBC.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_ALLOC_FORMULATION_H
#define QPAL_LIB_ALLOC_FORMULATION_H

#include "qpal/Alloc/Msq.h"

#include <array>
#include <optional>
#include <vector>

namespace qpal::alloc::detail {

/// One way to store a group.
struct GroupOption {
  /// The quantizer, with its kernel kind.
  QuantizerSpec quantizer;
  /// err(q).
  double error = 0;
  /// With per-layer errors: the a-weighted error sum_members a_l err_l(q)
  /// of each block (empty otherwise).
  std::vector<double> blockCosts;
  /// Seconds of one block's instance (0 without a latency model).
  double seconds = 0;
  /// Bytes of the members under the problem's memory model.
  double bytes = 0;
};

/// The exact-cover structure of a block: four independent segments
/// (attention q/k/v, o, MLP up/gate, down), each with its partitions.
struct Segment {
  std::vector<std::vector<FusionGroup>> partitions;
  /// The union of the groups of all partitions.
  std::vector<FusionGroup> groups;
};

/// A choice for one block: the partition of each segment and the option of
/// each used group (-1 where unused).
struct BlockChoice {
  std::array<unsigned, 4> partition{};
  std::array<int, kNumFusionGroups> option;
  BlockChoice() { option.fill(-1); }
};

struct Formulation {
  const MsqProblem *problem = nullptr;
  unsigned numBlocks = 0;
  /// Options per group (after pruning); empty for groups not allowed.
  std::array<std::vector<GroupOption>, kNumFusionGroups> options;
  std::array<Segment, 4> segments;
  /// Which budgets constrain the problem, net of fixed costs (seconds of
  /// the groups per token; bytes of the layers).
  std::optional<double> secondsBudget;
  std::optional<double> bytesBudget;
  /// Fixed bytes (sign vectors under the full memory model) and seconds
  /// (the latency model's constant).
  double fixedBytes = 0;
  double fixedSeconds = 0;
  /// Binaries of the full formulation and after pruning.
  uint64_t variables = 0;
  uint64_t variablesAfterPruning = 0;

  /// a-weighted error of option `option` of `group` in `block`.
  double cost(unsigned block, FusionGroup group, unsigned option) const {
    const GroupOption &chosen = options[static_cast<unsigned>(group)][option];
    if (!chosen.blockCosts.empty())
      return chosen.blockCosts[block];
    return problem->sensitivities.groupSum(block, group) * chosen.error;
  }
};

/// Totals of a set of block choices.
struct ChoiceTotals {
  double objective = 0;
  double seconds = 0;
  double bytes = 0;
};

/// Validates `problem` and builds its formulation; errors name the
/// offending input or the budget beyond the palette's reach.
llvm::Expected<Formulation> buildFormulation(const MsqProblem &problem,
                                             const SolveOptions &options);

/// Sums objective and resources of `choices`.
ChoiceTotals totals(const Formulation &formulation,
                    const std::vector<BlockChoice> &choices);

/// Returns true when `totals` fits the budgets.
bool fitsBudgets(const Formulation &formulation, const ChoiceTotals &totals);

/// Moves single groups of a feasible `choices` to cheaper options while the
/// budgets allow, best gain first, until none is left.
void greedyImprove(const Formulation &formulation,
                   std::vector<BlockChoice> &choices);

/// A feasible plan from Lagrangian relaxation of the budgets plus greedy
/// improvement, or std::nullopt when the heuristic finds none.
std::optional<std::vector<BlockChoice>>
heuristicPlan(const Formulation &formulation);

/// A solution proven optimal by `solveExactly`.
struct ExactSolution {
  std::vector<BlockChoice> choices;
  /// Its objective (the optimum, up to 1e-12 relative rounding).
  double objective = 0;
  /// The Lagrangian (= LP) bound the enumeration started from.
  double lagrangianBound = 0;
  /// Classes and items left after reduced-cost filtering, and DP states.
  uint64_t freeClasses = 0;
  uint64_t freeItems = 0;
  uint64_t states = 0;
};

/// Solves a problem with a memory budget, a latency budget or both to
/// optimality, starting from a feasible `incumbent`: Lagrangian bound (one
/// multiplier per budget), reduced-cost filtering, then a Pareto DP over
/// the remaining items. Returns std::nullopt when the problem has no budget
/// or the DP would exceed `maxStates` states.
std::optional<ExactSolution>
solveExactly(const Formulation &formulation,
             const std::vector<BlockChoice> &incumbent, uint64_t maxStates);

} // namespace qpal::alloc::detail

#endif // QPAL_LIB_ALLOC_FORMULATION_H
