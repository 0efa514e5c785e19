//===- Formulation.cpp - The MSQ choice structure and a heuristic ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "Formulation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::detail;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// `value` with `digits` significant digits, without trailing zeros.
static std::string formatNumber(double value, int digits = 4) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

static unsigned index(FusionGroup group) {
  return static_cast<unsigned>(group);
}

/// Bytes of one layer under `model`.
static double layerBytes(const QuantizerSpec &quantizer, LayerShape shape,
                         MemoryModel model) {
  uint64_t bytes =
      quantizer.codeBytes(shape.rows, shape.cols) + quantizer.codebookBytes();
  if (model == MemoryModel::Full)
    bytes += quantizer.scaleBytes(shape.rows);
  return static_cast<double>(bytes);
}

/// The partitions of the four block segments allowed by `fused`.
static std::array<Segment, 4> buildSegments(llvm::ArrayRef<FusionGroup> fused) {
  using G = FusionGroup;
  auto allowed = [&](llvm::ArrayRef<G> groups) {
    return llvm::all_of(groups, [&](G group) {
      return !isFusedGroup(group) || llvm::is_contained(fused, group);
    });
  };
  std::vector<std::vector<G>> candidates[4] = {{{G::Q, G::K, G::V},
                                                {G::QK, G::V},
                                                {G::KV, G::Q},
                                                {G::QV, G::K},
                                                {G::QKV}},
                                               {{G::O}},
                                               {{G::Up, G::Gate}, {G::UG}},
                                               {{G::Down}}};
  std::array<Segment, 4> segments;
  for (unsigned s = 0; s < 4; ++s) {
    for (auto &partition : candidates[s]) {
      if (!allowed(partition))
        continue;
      for (G group : partition)
        if (!llvm::is_contained(segments[s].groups, group))
          segments[s].groups.push_back(group);
      segments[s].partitions.push_back(partition);
    }
  }
  return segments;
}

/// Drops options that another option matches or beats in error and in every
/// budgeted resource; of exact ties the first is kept.
static void pruneDominated(std::vector<GroupOption> &options, bool bySeconds,
                           bool byBytes) {
  // With per-layer errors an option must be no worse in every block.
  auto noWorseError = [](const GroupOption &a, const GroupOption &b) {
    if (a.blockCosts.empty())
      return a.error <= b.error;
    for (size_t block = 0; block < a.blockCosts.size(); ++block)
      if (a.blockCosts[block] > b.blockCosts[block])
        return false;
    return true;
  };
  auto noWorse = [&](const GroupOption &a, const GroupOption &b) {
    return noWorseError(a, b) && (!bySeconds || a.seconds <= b.seconds) &&
           (!byBytes || a.bytes <= b.bytes);
  };
  std::vector<GroupOption> kept;
  for (unsigned i = 0; i < options.size(); ++i) {
    bool dominated = false;
    for (unsigned j = 0; j < options.size() && !dominated; ++j) {
      if (i == j || !noWorse(options[j], options[i]))
        continue;
      // Equal in everything: keep the earlier one only.
      bool equal = noWorse(options[i], options[j]);
      dominated = !equal || j < i;
    }
    if (!dominated)
      kept.push_back(options[i]);
  }
  options = std::move(kept);
}

/// The smallest total of `resource` over the options and partitions of one
/// block.
template <typename Resource>
static double minimumPerBlock(const Formulation &formulation,
                              Resource resource) {
  double total = 0;
  for (const Segment &segment : formulation.segments) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto &partition : segment.partitions) {
      double sum = 0;
      for (FusionGroup group : partition) {
        double groupBest = std::numeric_limits<double>::infinity();
        for (const GroupOption &option : formulation.options[index(group)])
          groupBest = std::min(groupBest, resource(option));
        sum += groupBest;
      }
      best = std::min(best, sum);
    }
    total += best;
  }
  return total;
}

llvm::Expected<Formulation>
detail::buildFormulation(const MsqProblem &problem,
                         const SolveOptions &solveOptions) {
  Formulation formulation;
  formulation.problem = &problem;
  const ModelConfig &model = problem.model;
  if (auto err = model.verify())
    return std::move(err);
  if (auto err = problem.sensitivities.verify())
    return std::move(err);
  if (problem.sensitivities.numBlocks() != model.numBlocks)
    return makeError(llvm::formatv(
        "sensitivities cover {0} blocks but model '{1}' has {2}",
        problem.sensitivities.numBlocks(), model.name, model.numBlocks));
  formulation.numBlocks = model.numBlocks;
  if (problem.layerErrors &&
      problem.layerErrors->numBlocks() != model.numBlocks)
    return makeError(llvm::formatv(
        "layer errors '{0}' cover {1} blocks but model '{2}' has {3}",
        problem.layerErrors->source(), problem.layerErrors->numBlocks(),
        model.name, model.numBlocks));
  if (problem.palette.empty())
    return makeError("the palette is empty");
  if (!problem.maxBitsPerWeight && !problem.maxBytes &&
      !problem.minTokensPerSecond)
    return makeError("MSQ needs a budget: give a memory budget (bits per "
                     "weight or bytes), a latency budget (tokens per "
                     "second), or both");
  if (problem.maxBitsPerWeight && !(std::isfinite(*problem.maxBitsPerWeight) &&
                                    *problem.maxBitsPerWeight > 0))
    return makeError(llvm::formatv(
        "memory budget must be a positive number of bits per weight, got {0}",
        formatNumber(*problem.maxBitsPerWeight)));
  if (problem.maxBytes && *problem.maxBytes == 0)
    return makeError("memory budget must be a positive number of bytes");
  if (problem.minTokensPerSecond &&
      !(std::isfinite(*problem.minTokensPerSecond) &&
        *problem.minTokensPerSecond > 0))
    return makeError(llvm::formatv(
        "latency budget must be a positive number of tokens per second, got "
        "{0}",
        formatNumber(*problem.minTokensPerSecond)));
  if (problem.minTokensPerSecond && !problem.latency)
    return makeError("a latency budget needs a latency model (a measured "
                     "table or the roofline model)");
  if (!(solveOptions.relativeGap >= 0) || !(solveOptions.timeLimitSeconds > 0))
    return makeError("solve options: the gap must be non-negative and the "
                     "time limit positive");

  bool bySeconds = problem.minTokensPerSecond.has_value();
  bool byBytes = problem.maxBitsPerWeight || problem.maxBytes;
  formulation.segments = buildSegments(problem.fusedGroups);

  // Options per group: every palette member that can store all members and
  // that the models can price.
  for (const Segment &segment : formulation.segments) {
    for (FusionGroup group : segment.groups) {
      std::vector<GroupOption> &options = formulation.options[index(group)];
      std::string rejected;
      for (const QuantizerSpec &quantizer : problem.palette) {
        if (llvm::any_of(options, [&](const GroupOption &option) {
              return option.quantizer == quantizer;
            }))
          continue;
        std::optional<std::string> shapeError;
        for (Projection member : fusionGroupMembers(group))
          if (!shapeError)
            shapeError = quantizer.checkShape(model.shape(member).rows,
                                              model.shape(member).cols);
        if (shapeError) {
          rejected += "\n  " + *shapeError;
          continue;
        }
        GroupOption option;
        option.quantizer = quantizer;
        auto error = problem.distortion.lookup(quantizer);
        if (!error)
          return error.takeError();
        option.error = *error;
        if (problem.layerErrors) {
          option.blockCosts.assign(formulation.numBlocks, 0.0);
          for (unsigned block = 0; block < formulation.numBlocks; ++block)
            for (Projection member : fusionGroupMembers(group)) {
              auto layerError = problem.layerErrors->error(
                  quantizer, block, member, problem.distortion);
              if (!layerError)
                return layerError.takeError();
              option.blockCosts[block] +=
                  problem.sensitivities.at(block, member) * *layerError;
            }
        }
        if (problem.latency) {
          auto seconds = problem.latency->groupSeconds(
              group, model.shape(group), quantizer, quantizer.kernel);
          if (!seconds)
            return seconds.takeError();
          option.seconds = *seconds;
        }
        for (Projection member : fusionGroupMembers(group))
          option.bytes +=
              layerBytes(quantizer, model.shape(member), problem.memoryModel);
        options.push_back(option);
      }
      if (options.empty()) {
        LayerShape shape = model.shape(group);
        return makeError(llvm::formatv(
            "no quantizer in the palette can store {0} '{1}' ({2}x{3}):{4}",
            isFusedGroup(group) ? "fused group" : "layer",
            fusionGroupName(group), shape.rows, shape.cols, rejected));
      }
      formulation.variables += options.size() * formulation.numBlocks;
      if (solveOptions.pruneDominated)
        pruneDominated(options, bySeconds, byBytes);
      formulation.variablesAfterPruning +=
          options.size() * formulation.numBlocks;
    }
  }

  // Budgets, net of fixed costs, and what the palette can reach at best.
  double blocks = formulation.numBlocks;
  double fp16Bytes = static_cast<double>(model.fp16LinearBytes());
  if (problem.memoryModel == MemoryModel::Full)
    formulation.fixedBytes =
        static_cast<double>(model.signBytesPerBlock()) * blocks;
  if (problem.latency)
    formulation.fixedSeconds = problem.latency->constantSeconds();
  if (byBytes) {
    double budget = std::numeric_limits<double>::infinity();
    if (problem.maxBitsPerWeight)
      budget = fp16Bytes * *problem.maxBitsPerWeight / 16.0;
    if (problem.maxBytes)
      budget = std::min(budget, static_cast<double>(*problem.maxBytes));
    formulation.bytesBudget = budget - formulation.fixedBytes;
    double minimum = minimumPerBlock(
        formulation, [](const GroupOption &option) { return option.bytes; });
    double minimumTotal = minimum * blocks + formulation.fixedBytes;
    if (minimumTotal > budget * (1 + 1e-12)) {
      llvm::StringRef what = problem.memoryModel == MemoryModel::Full
                                 ? "full memory model: codes, codebooks, "
                                   "scales and sign vectors"
                                 : "reference memory model: codes and "
                                   "codebooks";
      if (problem.maxBitsPerWeight &&
          (!problem.maxBytes ||
           budget < static_cast<double>(*problem.maxBytes)))
        return makeError(llvm::formatv(
            "memory budget of {0} bits/weight is below the palette's minimum "
            "of {1} bits/weight ({2})",
            formatNumber(*problem.maxBitsPerWeight),
            formatNumber(16.0 * minimumTotal / fp16Bytes), what));
      return makeError(llvm::formatv(
          "memory budget of {0} bytes is below the palette's minimum of {1} "
          "bytes ({2} bits/weight; {3})",
          *problem.maxBytes, static_cast<uint64_t>(std::ceil(minimumTotal)),
          formatNumber(16.0 * minimumTotal / fp16Bytes), what));
    }
  }
  if (bySeconds) {
    double perToken = 1.0 / *problem.minTokensPerSecond;
    formulation.secondsBudget = perToken - formulation.fixedSeconds;
    double minimum = minimumPerBlock(
        formulation, [](const GroupOption &option) { return option.seconds; });
    double minimumTotal = minimum * blocks + formulation.fixedSeconds;
    if (minimumTotal > perToken * (1 + 1e-12))
      return makeError(llvm::formatv(
          "latency budget of {0} tokens/s ({1} ms/token) is above the "
          "palette's maximum of {2} tokens/s ({3} ms/token) under {4}",
          formatNumber(*problem.minTokensPerSecond),
          formatNumber(perToken * 1e3), formatNumber(1.0 / minimumTotal),
          formatNumber(minimumTotal * 1e3), problem.latency->describe()));
  }
  return formulation;
}

//===----------------------------------------------------------------------===//
// Heuristic
//===----------------------------------------------------------------------===//

ChoiceTotals detail::totals(const Formulation &formulation,
                            const std::vector<BlockChoice> &choices) {
  ChoiceTotals result;
  for (unsigned block = 0; block < choices.size(); ++block)
    for (FusionGroup group : kAllFusionGroups) {
      int option = choices[block].option[index(group)];
      if (option < 0)
        continue;
      const GroupOption &chosen = formulation.options[index(group)][option];
      result.objective += formulation.cost(block, group, option);
      result.seconds += chosen.seconds;
      result.bytes += chosen.bytes;
    }
  return result;
}

bool detail::fitsBudgets(const Formulation &formulation,
                         const ChoiceTotals &totals) {
  auto fits = [](double used, std::optional<double> budget) {
    return !budget || used <= *budget;
  };
  return fits(totals.seconds, formulation.secondsBudget) &&
         fits(totals.bytes, formulation.bytesBudget);
}

/// The minimizer of objective + lambda * (normalized resources).
static std::vector<BlockChoice> lagrangianChoice(const Formulation &formulation,
                                                 double lambda) {
  double secondsWeight = formulation.secondsBudget
                             ? 1.0 / std::max(*formulation.secondsBudget, 1e-30)
                             : 0.0;
  double bytesWeight = formulation.bytesBudget
                           ? 1.0 / std::max(*formulation.bytesBudget, 1.0)
                           : 0.0;
  std::vector<BlockChoice> choices(formulation.numBlocks);
  for (unsigned block = 0; block < formulation.numBlocks; ++block) {
    BlockChoice &choice = choices[block];
    std::array<double, kNumFusionGroups> value;
    std::array<int, kNumFusionGroups> best;
    for (const Segment &segment : formulation.segments)
      for (FusionGroup group : segment.groups) {
        const auto &options = formulation.options[index(group)];
        value[index(group)] = std::numeric_limits<double>::infinity();
        for (unsigned o = 0; o < options.size(); ++o) {
          double v = formulation.cost(block, group, o) +
                     lambda * (secondsWeight * options[o].seconds +
                               bytesWeight * options[o].bytes);
          if (v < value[index(group)]) {
            value[index(group)] = v;
            best[index(group)] = o;
          }
        }
      }
    for (unsigned s = 0; s < 4; ++s) {
      const Segment &segment = formulation.segments[s];
      double bestValue = std::numeric_limits<double>::infinity();
      for (unsigned p = 0; p < segment.partitions.size(); ++p) {
        double sum = 0;
        for (FusionGroup group : segment.partitions[p])
          sum += value[index(group)];
        if (sum < bestValue) {
          bestValue = sum;
          choice.partition[s] = p;
        }
      }
      for (FusionGroup group : segment.partitions[choice.partition[s]])
        choice.option[index(group)] = best[index(group)];
    }
  }
  return choices;
}

/// Improves a feasible plan one group at a time: the move that lowers the
/// objective most while staying within the budgets, until none does.
void detail::greedyImprove(const Formulation &formulation,
                           std::vector<BlockChoice> &choices) {
  ChoiceTotals current = totals(formulation, choices);
  for (unsigned iteration = 0; iteration < 100000; ++iteration) {
    double bestGain = 0;
    unsigned bestBlock = 0;
    FusionGroup bestGroup = FusionGroup::Q;
    int bestOption = -1;
    for (unsigned block = 0; block < formulation.numBlocks; ++block)
      for (FusionGroup group : kAllFusionGroups) {
        int chosen = choices[block].option[index(group)];
        if (chosen < 0)
          continue;
        const auto &options = formulation.options[index(group)];
        double chosenCost = formulation.cost(block, group, chosen);
        for (unsigned o = 0; o < options.size(); ++o) {
          double gain = chosenCost - formulation.cost(block, group, o);
          if (gain <= bestGain)
            continue;
          ChoiceTotals moved = current;
          moved.seconds += options[o].seconds - options[chosen].seconds;
          moved.bytes += options[o].bytes - options[chosen].bytes;
          if (!fitsBudgets(formulation, moved))
            continue;
          bestGain = gain;
          bestBlock = block;
          bestGroup = group;
          bestOption = o;
        }
      }
    if (bestOption < 0)
      return;
    const auto &options = formulation.options[index(bestGroup)];
    int &chosen = choices[bestBlock].option[index(bestGroup)];
    current.objective -= bestGain;
    current.seconds += options[bestOption].seconds - options[chosen].seconds;
    current.bytes += options[bestOption].bytes - options[chosen].bytes;
    chosen = bestOption;
  }
}

std::optional<std::vector<BlockChoice>>
detail::heuristicPlan(const Formulation &formulation) {
  auto feasible = [&](double lambda) {
    return fitsBudgets(
        formulation,
        totals(formulation, lagrangianChoice(formulation, lambda)));
  };
  double low = 0;
  if (feasible(low))
    return lagrangianChoice(formulation, low);
  // The multiplier's scale: errors are a-weighted (up to sum a * err),
  // resources are normalized to the budgets.
  double high = 1e-6;
  while (!feasible(high)) {
    high *= 4;
    if (high > 1e12)
      return std::nullopt;
  }
  for (unsigned step = 0; step < 100 && high - low > 1e-12 * high; ++step) {
    double middle = 0.5 * (low + high);
    if (feasible(middle))
      high = middle;
    else
      low = middle;
  }
  std::vector<BlockChoice> choices = lagrangianChoice(formulation, high);
  greedyImprove(formulation, choices);
  return choices;
}
