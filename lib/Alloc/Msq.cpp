//===- Msq.cpp - Mixed-scheme quantization as an exact MIP ----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The MIP (kernels-and-msq.md section 15, with the fixes of section 17):
//
//   x[b, G, o] in {0, 1}   block b runs group G with option o (quantizer and
//                          kernel kind)
//   y[b, s, P] in [0, 1]   segment s of block b uses partition P (only for
//                          segments with more than one admissible partition)
//
//   minimize  sum a_{b,G} err(o) x[b, G, o]
//   s.t.      sum_P y[b, s, P] = 1,  sum_o x[b, G, o] = sum_{P ∋ G} y[b, s, P]
//             (or sum_o x[b, G, o] = 1 for a segment with one partition)
//             sum seconds(G, o) x[b, G, o] <= 1 / tokens_per_s - constant
//             sum bytes(G, o) x[b, G, o]   <= budget - fixed bytes
//
// The partition variables make the exact cover of q, k, v integral (the
// plain cover rows admit qk = kv = qv = 1/2); x integral forces y integral.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/Msq.h"

#include "Formulation.h"
#include "MipSolver.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::detail;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string formatNumber(double value, int digits = 4) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

static unsigned index(FusionGroup group) {
  return static_cast<unsigned>(group);
}

//===----------------------------------------------------------------------===//
// Plan costs
//===----------------------------------------------------------------------===//

Plan alloc::uniformPlan(const ModelConfig &model,
                        const QuantizerSpec &quantizer,
                        llvm::ArrayRef<FusionGroup> fused) {
  Plan plan;
  plan.model = model;
  BlockPlan block;
  block.quantizers.fill(quantizer);
  std::array<bool, kNumProjections> covered{};
  for (FusionGroup group : fused) {
    if (llvm::any_of(fusionGroupMembers(group), [&](Projection member) {
          return covered[static_cast<unsigned>(member)];
        }))
      continue;
    block.groups.push_back(group);
    for (Projection member : fusionGroupMembers(group))
      covered[static_cast<unsigned>(member)] = true;
  }
  block.coverWithSingletons();
  plan.blocks.assign(model.numBlocks, block);
  return plan;
}

llvm::Expected<double>
alloc::predictSecondsPerToken(const Plan &plan, const LatencyModel &latency) {
  double seconds = latency.constantSeconds();
  for (const BlockPlan &block : plan.blocks)
    for (FusionGroup group : block.groups) {
      const QuantizerSpec &quantizer =
          block.quantizer(fusionGroupMembers(group).front());
      auto groupSeconds = latency.groupSeconds(group, plan.model.shape(group),
                                               quantizer, quantizer.kernel);
      if (!groupSeconds)
        return groupSeconds.takeError();
      seconds += *groupSeconds;
    }
  return seconds;
}

llvm::Expected<PlanCosts> alloc::evaluatePlan(const MsqProblem &problem,
                                              const Plan &plan) {
  if (plan.blocks.size() != static_cast<size_t>(problem.model.numBlocks) ||
      problem.sensitivities.numBlocks() != plan.blocks.size())
    return makeError(llvm::formatv(
        "the plan has {0} blocks, the model {1} and the sensitivities {2}",
        plan.blocks.size(), problem.model.numBlocks,
        problem.sensitivities.numBlocks()));
  if (auto err = verifyCover(plan))
    return std::move(err);
  PlanCosts costs;
  for (unsigned block = 0; block < plan.blocks.size(); ++block)
    for (Projection projection : kAllProjections) {
      const QuantizerSpec &quantizer = plan.blocks[block].quantizer(projection);
      auto error = problem.layerErrors
                       ? problem.layerErrors->error(
                             quantizer, block, projection, problem.distortion)
                       : problem.distortion.lookup(quantizer);
      if (!error)
        return error.takeError();
      costs.objective += problem.sensitivities.at(block, projection) * *error;
      costs.memory.addLayer(quantizer, problem.model.shape(projection));
    }
  costs.memory.signBytes =
      problem.model.signBytesPerBlock() * plan.blocks.size();
  if (problem.latency) {
    Plan shaped = plan;
    shaped.model = problem.model;
    auto seconds = predictSecondsPerToken(shaped, *problem.latency);
    if (!seconds)
      return seconds.takeError();
    costs.secondsPerToken = *seconds;
  }
  return costs;
}

//===----------------------------------------------------------------------===//
// Water filling
//===----------------------------------------------------------------------===//

llvm::Expected<WaterFilling>
alloc::waterFill(llvm::ArrayRef<double> sensitivities,
                 llvm::ArrayRef<uint64_t> weights, double totalBits) {
  if (sensitivities.size() != weights.size())
    return makeError("water filling: one weight count per sensitivity");
  if (!(std::isfinite(totalBits) && totalBits >= 0))
    return makeError(llvm::formatv(
        "water filling: the bit budget must be finite and non-negative, got "
        "{0}",
        totalBits));
  double maxLevel = 0;
  for (unsigned l = 0; l < weights.size(); ++l) {
    if (!(std::isfinite(sensitivities[l]) && sensitivities[l] >= 0) ||
        weights[l] == 0)
      return makeError(llvm::formatv(
          "water filling: layer {0} needs a finite non-negative sensitivity "
          "and a positive size",
          l));
    maxLevel = std::max(maxLevel, std::log(4.0) * sensitivities[l] /
                                      static_cast<double>(weights[l]));
  }
  WaterFilling result;
  result.bits.assign(weights.size(), 0.0);
  auto allocate = [&](double level) {
    double used = 0;
    for (unsigned l = 0; l < weights.size(); ++l) {
      double n = static_cast<double>(weights[l]);
      double b =
          sensitivities[l] > 0
              ? 0.5 * std::log2(std::log(4.0) * sensitivities[l] / (level * n))
              : 0.0;
      result.bits[l] = std::max(0.0, b);
      used += n * result.bits[l];
    }
    return used;
  };
  if (maxLevel == 0 || totalBits == 0) {
    result.waterLevel = maxLevel;
    for (unsigned l = 0; l < weights.size(); ++l)
      result.objective += sensitivities[l];
    return result;
  }
  // Bits are decreasing in the level; bracket, then bisect in log space.
  double high = maxLevel, low = maxLevel;
  while (allocate(low) < totalBits)
    low /= 16;
  for (unsigned step = 0; step < 200; ++step) {
    double middle = std::sqrt(low * high);
    if (allocate(middle) < totalBits)
      high = middle;
    else
      low = middle;
  }
  result.waterLevel = std::sqrt(low * high);
  allocate(result.waterLevel);
  for (unsigned l = 0; l < weights.size(); ++l)
    result.objective += sensitivities[l] * std::exp2(-2.0 * result.bits[l]);
  return result;
}

llvm::Expected<WaterFilling> alloc::waterFill(const MsqProblem &problem,
                                              double bitsPerWeight) {
  if (problem.sensitivities.numBlocks() != problem.model.numBlocks)
    return makeError(
        llvm::formatv("sensitivities cover {0} blocks but model '{1}' has {2}",
                      problem.sensitivities.numBlocks(), problem.model.name,
                      problem.model.numBlocks));
  std::vector<double> sensitivities;
  std::vector<uint64_t> weights;
  for (unsigned block = 0; block < problem.model.numBlocks; ++block)
    for (Projection projection : kAllProjections) {
      sensitivities.push_back(problem.sensitivities.at(block, projection));
      weights.push_back(problem.model.shape(projection).weights());
    }
  return waterFill(sensitivities, weights,
                   bitsPerWeight *
                       static_cast<double>(problem.model.linearWeights()));
}

//===----------------------------------------------------------------------===//
// Solving
//===----------------------------------------------------------------------===//

namespace {
/// Where the columns of one block start.
struct BlockColumns {
  std::array<int, kNumFusionGroups> firstOption;
  std::array<std::vector<int>, 4> partitions;
  BlockColumns() { firstOption.fill(-1); }
};
} // namespace

/// Builds the MIP of `formulation`, its objective scaled by `scale`.
static MipProblem buildMip(const Formulation &formulation, double scale,
                           std::vector<BlockColumns> &layout) {
  MipProblem mip;
  layout.assign(formulation.numBlocks, BlockColumns());
  std::vector<std::pair<int, double>> latencyRow, memoryRow;
  for (unsigned block = 0; block < formulation.numBlocks; ++block) {
    BlockColumns &columns = layout[block];
    for (unsigned s = 0; s < 4; ++s) {
      const Segment &segment = formulation.segments[s];
      for (FusionGroup group : segment.groups) {
        const auto &options = formulation.options[index(group)];
        columns.firstOption[index(group)] = mip.objective.size();
        for (unsigned o = 0; o < options.size(); ++o) {
          int column = mip.addColumn(scale * formulation.cost(block, group, o),
                                     0, 1, true);
          // Microseconds and MiB keep the coefficients near 1..1e3.
          if (formulation.secondsBudget)
            latencyRow.emplace_back(column, options[o].seconds * 1e6);
          if (formulation.bytesBudget)
            memoryRow.emplace_back(column, options[o].bytes / 1048576.0);
        }
      }
      auto groupEntries = [&](FusionGroup group, double value) {
        std::vector<std::pair<int, double>> row;
        int first = columns.firstOption[index(group)];
        for (unsigned o = 0; o < formulation.options[index(group)].size(); ++o)
          row.emplace_back(first + o, value);
        return row;
      };
      if (segment.partitions.size() == 1) {
        for (FusionGroup group : segment.partitions.front())
          mip.addRow(groupEntries(group, 1.0), 1, 1);
        continue;
      }
      std::vector<std::pair<int, double>> choose;
      for (unsigned p = 0; p < segment.partitions.size(); ++p) {
        int column = mip.addColumn(0, 0, 1, false);
        columns.partitions[s].push_back(column);
        choose.emplace_back(column, 1.0);
      }
      mip.addRow(std::move(choose), 1, 1);
      for (FusionGroup group : segment.groups) {
        auto row = groupEntries(group, 1.0);
        for (unsigned p = 0; p < segment.partitions.size(); ++p)
          if (llvm::is_contained(segment.partitions[p], group))
            row.emplace_back(columns.partitions[s][p], -1.0);
        mip.addRow(std::move(row), 0, 0);
      }
    }
  }
  if (formulation.secondsBudget)
    mip.addRow(std::move(latencyRow), -1e30, *formulation.secondsBudget * 1e6);
  if (formulation.bytesBudget)
    mip.addRow(std::move(memoryRow), -1e30,
               *formulation.bytesBudget / 1048576.0);
  return mip;
}

/// The MIP point of a heuristic plan.
static std::vector<double> startPoint(const Formulation &formulation,
                                      const std::vector<BlockColumns> &layout,
                                      const std::vector<BlockChoice> &choices,
                                      size_t numColumns) {
  std::vector<double> point(numColumns, 0.0);
  for (unsigned block = 0; block < formulation.numBlocks; ++block) {
    for (FusionGroup group : kAllFusionGroups)
      if (int option = choices[block].option[index(group)]; option >= 0)
        point[layout[block].firstOption[index(group)] + option] = 1.0;
    for (unsigned s = 0; s < 4; ++s)
      if (!layout[block].partitions[s].empty())
        point[layout[block].partitions[s][choices[block].partition[s]]] = 1.0;
  }
  return point;
}

/// The block plan of one block's choice.
static BlockPlan toBlockPlan(const Formulation &formulation,
                             const BlockChoice &choice) {
  BlockPlan block;
  for (FusionGroup group : kAllFusionGroups) {
    int option = choice.option[index(group)];
    if (option < 0)
      continue;
    block.groups.push_back(group);
    for (Projection member : fusionGroupMembers(group))
      block.quantizers[static_cast<unsigned>(member)] =
          formulation.options[index(group)][option].quantizer;
  }
  return block;
}

/// Re-partitions blocks whose members ended up with equal quantizers when a
/// fused GEMM is predicted faster: the objective and memory do not change.
static unsigned fuseTies(const MsqProblem &problem,
                         const Formulation &formulation, Plan &plan) {
  unsigned changed = 0;
  for (BlockPlan &block : plan.blocks) {
    std::vector<FusionGroup> groups;
    for (const Segment &segment : formulation.segments) {
      std::vector<FusionGroup> current;
      for (FusionGroup group : block.groups)
        if (llvm::is_contained(segment.groups, group))
          current.push_back(group);
      auto secondsOf =
          [&](llvm::ArrayRef<FusionGroup> partition) -> std::optional<double> {
        double total = 0;
        for (FusionGroup group : partition) {
          const QuantizerSpec &quantizer =
              block.quantizer(fusionGroupMembers(group).front());
          for (Projection member : fusionGroupMembers(group))
            if (block.quantizer(member) != quantizer)
              return std::nullopt;
          auto seconds = problem.latency->groupSeconds(
              group, problem.model.shape(group), quantizer, quantizer.kernel);
          if (!seconds) {
            llvm::consumeError(seconds.takeError());
            return std::nullopt;
          }
          total += *seconds;
        }
        return total;
      };
      std::optional<double> best = secondsOf(current);
      for (const auto &partition : segment.partitions) {
        std::optional<double> seconds = secondsOf(partition);
        if (seconds && best && *seconds < *best * (1 - 1e-12)) {
          best = seconds;
          current = partition;
          ++changed;
        }
      }
      groups.insert(groups.end(), current.begin(), current.end());
    }
    llvm::sort(groups);
    block.groups = std::move(groups);
  }
  return changed;
}

/// Describes the budgets of `problem` for messages.
static std::string describeBudgets(const MsqProblem &problem) {
  std::string text;
  if (problem.maxBitsPerWeight)
    text += "memory budget of " + formatNumber(*problem.maxBitsPerWeight) +
            " bits/weight";
  if (problem.maxBytes)
    text += std::string(text.empty() ? "" : " and ") + "memory budget of " +
            std::to_string(*problem.maxBytes) + " bytes";
  if (problem.minTokensPerSecond)
    text += std::string(text.empty() ? "" : " and ") + "latency budget of " +
            formatNumber(*problem.minTokensPerSecond) + " tokens/s";
  return text;
}

llvm::Expected<Plan> alloc::solveMsq(const MsqProblem &problem,
                                     const SolveOptions &options) {
  auto solveStarted = std::chrono::steady_clock::now();
  auto built = buildFormulation(problem, options);
  if (!built)
    return built.takeError();
  Formulation &formulation = *built;

  std::optional<std::vector<BlockChoice>> start;
  if (options.warmStart || options.solver != MsqSolver::Cbc)
    start = heuristicPlan(formulation);

  // Scale the objective to about 1e3 so CBC's absolute tolerances are
  // negligible; gaps are relative and unaffected.
  double reference = start ? totals(formulation, *start).objective : 0.0;
  if (!(reference > 0))
    for (unsigned block = 0; block < formulation.numBlocks; ++block)
      for (FusionGroup group : kAllFusionGroups)
        if (!isFusedGroup(group) && !formulation.options[index(group)].empty())
          reference += formulation.cost(block, group, 0);
  double scale = reference > 0 ? 1e3 / reference : 1.0;

  std::vector<BlockColumns> layout;
  MipProblem mip = buildMip(formulation, scale, layout);

  Plan plan;
  plan.model = problem.model;
  double bound = 0;
  bool proven = false;
  std::vector<BlockChoice> choices;

  // Enumerate exactly (Lagrangian core + Pareto DP).
  if (options.solver != MsqSolver::Cbc && start) {
    std::optional<ExactSolution> exact =
        solveExactly(formulation, *start, options.maxDpStates);
    if (exact) {
      choices = std::move(exact->choices);
      // No plan cheaper than the optimum less rounding exists.
      bound = exact->objective - 1e-12 * std::abs(exact->objective);
      proven = true;
      plan.solver = "lagrangian-dp";
      plan.notes.push_back(llvm::formatv(
          "Lagrangian (LP) bound {0:e6}; after reduced-cost filtering {1} "
          "(block, segment) classes kept {2} choices; {3} DP states",
          exact->lagrangianBound, exact->freeClasses, exact->freeItems,
          exact->states));
    } else if (options.solver == MsqSolver::LagrangianDp) {
      return makeError(llvm::formatv(
          "the Lagrangian DP gave up after {0} states; solve with CBC",
          options.maxDpStates));
    } else {
      plan.notes.push_back("the Lagrangian DP exceeded its state limit; "
                           "solved with CBC");
    }
  }

  if (!proven && !start && options.solver != MsqSolver::Cbc)
    plan.notes.push_back("the heuristic found no feasible plan to start the "
                         "Lagrangian DP from; solved with CBC");
  if (!proven) {
    if (start && options.warmStart)
      mip.start = startPoint(formulation, layout, *start, mip.objective.size());
    MipOptions mipOptions;
    mipOptions.relativeGap = options.relativeGap;
    mipOptions.timeLimitSeconds = options.timeLimitSeconds;
    mipOptions.logLevel = options.solverLogLevel;
    auto result = solveWithCbc(mip, mipOptions);
    if (!result)
      return result.takeError();
    switch (result->status) {
    case MipStatus::Infeasible:
      return makeError(llvm::formatv(
          "the {0} cannot be met together: each alone is within the "
          "palette's reach, their combination is infeasible",
          describeBudgets(problem)));
    case MipStatus::StoppedWithoutSolution:
      return makeError(llvm::formatv(
          "no feasible plan found for the {0} within the time limit of {1} s "
          "(the solver stopped without a solution; raise the limit)",
          describeBudgets(problem), formatNumber(options.timeLimitSeconds)));
    case MipStatus::Optimal:
    case MipStatus::StoppedWithSolution:
      break;
    }
    choices.assign(formulation.numBlocks, BlockChoice());
    for (unsigned block = 0; block < formulation.numBlocks; ++block)
      for (FusionGroup group : kAllFusionGroups) {
        int first = layout[block].firstOption[index(group)];
        if (first < 0)
          continue;
        for (unsigned o = 0; o < formulation.options[index(group)].size(); ++o)
          if (result->solution[first + o] > 0.5)
            choices[block].option[index(group)] = o;
      }
    double solved = totals(formulation, choices).objective;
    if (std::abs(result->objective / scale - solved) >
        1e-6 * std::max(1e-12, solved))
      plan.notes.push_back(llvm::formatv(
          "the solver's objective {0} differs from the recomputed {1}",
          result->objective / scale, solved));
    bound = result->bound / scale;
    proven = result->status == MipStatus::Optimal;
    plan.solver = "cbc";
    plan.nodes = result->nodes;
  }

  for (const BlockChoice &choice : choices)
    plan.blocks.push_back(toBlockPlan(formulation, choice));
  if (auto err = verifyCover(plan))
    return makeError(llvm::formatv("internal error: the solution is not a "
                                   "valid plan: {0}",
                                   llvm::toString(std::move(err))));
  if (options.fuseTies && problem.latency && !problem.fusedGroups.empty())
    if (unsigned changed = fuseTies(problem, formulation, plan))
      plan.notes.push_back(llvm::formatv(
          "{0} segment(s) re-partitioned at equal objective and memory to "
          "lower the predicted latency",
          changed));

  auto costs = evaluatePlan(problem, plan);
  if (!costs)
    return costs.takeError();
  plan.objective = costs->objective;
  plan.memory = costs->memory;
  plan.secondsPerToken = costs->secondsPerToken;
  if (problem.latency)
    plan.latencyModel = problem.latency->describe();
  plan.bound = std::min(bound, plan.objective);
  plan.gap =
      plan.objective > 0 ? (plan.objective - plan.bound) / plan.objective : 0.0;
  plan.gapTarget = options.relativeGap;
  plan.status = proven || plan.gap <= options.relativeGap
                    ? SolveStatus::Optimal
                    : SolveStatus::Feasible;
  plan.solveSeconds = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - solveStarted)
                          .count();
  plan.memoryModel = problem.memoryModel;
  plan.budgetBitsPerWeight = problem.maxBitsPerWeight;
  plan.budgetBytes = problem.maxBytes;
  plan.budgetTokensPerSecond = problem.minTokensPerSecond;
  plan.variables = formulation.variables;
  plan.variablesAfterPruning = formulation.variablesAfterPruning;
  plan.constraints = mip.rows.size();

  // The information-theoretic line: all bytes a quantizer may spend on
  // codes (the budget less sign vectors and scales under the full model).
  if (formulation.bytesBudget) {
    double unavoidable = formulation.fixedBytes;
    if (problem.memoryModel == MemoryModel::Full)
      for (Projection projection : kAllProjections)
        unavoidable += 2.0 * problem.model.shape(projection).rows *
                       static_cast<double>(problem.model.numBlocks);
    double codeBits =
        8.0 * (*formulation.bytesBudget + formulation.fixedBytes - unavoidable);
    double bitsPerWeight =
        codeBits / static_cast<double>(problem.model.linearWeights());
    if (auto ideal = waterFill(problem, std::max(0.0, bitsPerWeight)))
      plan.informationTheoreticObjective = ideal->objective;
    else
      llvm::consumeError(ideal.takeError());
  }
  return plan;
}
