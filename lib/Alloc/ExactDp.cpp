//===- ExactDp.cpp - Exact MSQ under one budget: Lagrangian core + DP -----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// With a single budget row, MSQ is a multiple-choice knapsack whose classes
// are the (block, segment) pairs and whose items are the segment's
// (partition, options) combinations. Its LP bound is within a few 1e-4 of
// the optimum, but branching on single binaries (what CBC does) closes that
// last gap slowly: the question is which few layers move one step to fill
// the budget exactly. This solver closes it by enumeration:
//
//  1. The Lagrangian L(lambda) = sum_k min_i (c_ki + lambda w_ki) - lambda W
//     is maximized over lambda (= the LP bound).
//  2. With an incumbent of cost U, a solution cheaper than U can only use
//     items of reduced cost c + lambda w - min <= U - L; all other items are
//     dropped, which leaves few items in few classes.
//  3. A Pareto dynamic program over (weight, cost) enumerates the remaining
//     combinations, pruned by the same Lagrangian bound; it returns a
//     solution cheaper than U or proves that none exists.
//
// The result is optimal up to floating-point rounding (1e-12 relative).
//
//===----------------------------------------------------------------------===//

#include "Formulation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::detail;

static unsigned index(FusionGroup group) {
  return static_cast<unsigned>(group);
}

namespace {
/// One item of a class: a partition of the segment and an option per group.
struct Item {
  unsigned partition = 0;
  llvm::SmallVector<std::pair<FusionGroup, int>, 3> options;
  double weight = 0;
  double cost = 0;
};

/// A DP state: the resource used, the cost, and how it was reached.
struct State {
  double weight;
  double cost;
  uint32_t parent;
  uint32_t item;
};

/// The single-budget view of a formulation.
class SingleBudget {
public:
  explicit SingleBudget(const Formulation &formulation)
      : formulation(formulation),
        useSeconds(formulation.secondsBudget.has_value()),
        budget(useSeconds ? *formulation.secondsBudget
                          : *formulation.bytesBudget) {}

  double resource(const GroupOption &option) const {
    return useSeconds ? option.seconds : option.bytes;
  }

  /// min over the items of class (block, segment) of cost + lambda weight,
  /// and the weight of a minimizer.
  std::pair<double, double> classMinimum(unsigned block, unsigned segment,
                                         double lambda) const {
    double best = std::numeric_limits<double>::infinity(), bestWeight = 0;
    for (const auto &partition : formulation.segments[segment].partitions) {
      double sum = 0, weight = 0;
      for (FusionGroup group : partition) {
        const auto &options = formulation.options[index(group)];
        double groupBest = std::numeric_limits<double>::infinity();
        double groupWeight = 0;
        for (unsigned o = 0; o < options.size(); ++o) {
          double value =
              formulation.cost(block, group, o) + lambda * resource(options[o]);
          if (value < groupBest) {
            groupBest = value;
            groupWeight = resource(options[o]);
          }
        }
        sum += groupBest;
        weight += groupWeight;
      }
      if (sum < best) {
        best = sum;
        bestWeight = weight;
      }
    }
    return {best, bestWeight};
  }

  /// L(lambda) and the weight of the minimizer.
  std::pair<double, double> lagrangian(double lambda) const {
    double value = -lambda * budget, weight = 0;
    for (unsigned block = 0; block < formulation.numBlocks; ++block)
      for (unsigned segment = 0; segment < 4; ++segment) {
        auto [minimum, minimizerWeight] = classMinimum(block, segment, lambda);
        value += minimum;
        weight += minimizerWeight;
      }
    return {value, weight};
  }

  /// The items of class (block, segment) whose reduced cost at `lambda` is
  /// at most `slack`.
  std::vector<Item> items(unsigned block, unsigned segment, double lambda,
                          double slack) const {
    double minimum = classMinimum(block, segment, lambda).first;
    std::vector<Item> result;
    const Segment &seg = formulation.segments[segment];
    for (unsigned p = 0; p < seg.partitions.size(); ++p) {
      const auto &partition = seg.partitions[p];
      // Reduced costs per group, relative to the group's own minimum.
      llvm::SmallVector<double, 3> groupMinimum;
      double partitionMinimum = 0;
      for (FusionGroup group : partition) {
        double best = std::numeric_limits<double>::infinity();
        const auto &options = formulation.options[index(group)];
        for (unsigned o = 0; o < options.size(); ++o)
          best = std::min(best, formulation.cost(block, group, o) +
                                    lambda * resource(options[o]));
        groupMinimum.push_back(best);
        partitionMinimum += best;
      }
      double base = partitionMinimum - minimum;
      if (base > slack)
        continue;
      Item item;
      item.partition = p;
      enumerate(block, partition, groupMinimum, 0, base, slack, lambda, item,
                result);
    }
    return result;
  }

  double budgetValue() const { return budget; }

private:
  void enumerate(unsigned block, llvm::ArrayRef<FusionGroup> partition,
                 llvm::ArrayRef<double> groupMinimum, unsigned position,
                 double reduced, double slack, double lambda, Item &item,
                 std::vector<Item> &out) const {
    if (position == partition.size()) {
      out.push_back(item);
      return;
    }
    FusionGroup group = partition[position];
    const auto &options = formulation.options[index(group)];
    for (unsigned o = 0; o < options.size(); ++o) {
      double cost = formulation.cost(block, group, o);
      double weight = resource(options[o]);
      double groupReduced = cost + lambda * weight - groupMinimum[position];
      if (reduced + groupReduced > slack)
        continue;
      item.options.emplace_back(group, o);
      item.cost += cost;
      item.weight += weight;
      enumerate(block, partition, groupMinimum, position + 1,
                reduced + groupReduced, slack, lambda, item, out);
      item.options.pop_back();
      item.cost -= cost;
      item.weight -= weight;
    }
  }

  const Formulation &formulation;
  bool useSeconds;
  double budget;
};
} // namespace

std::optional<ExactSolution>
detail::solveSingleBudgetExactly(const Formulation &formulation,
                                 const std::vector<BlockChoice> &incumbent,
                                 uint64_t maxStates) {
  if (formulation.secondsBudget.has_value() ==
      formulation.bytesBudget.has_value())
    return std::nullopt;
  SingleBudget problem(formulation);
  double budget = problem.budgetValue();
  double capacity = budget + 1e-12 * std::abs(budget);

  ExactSolution solution;
  solution.choices = incumbent;
  double upper = totals(formulation, incumbent).objective;

  // 1. The Lagrangian dual: L is concave in lambda with slope
  // (weight of the minimizer - budget); bisect on the slope's sign.
  double low = 0, high = 0;
  auto [lowValue, lowWeight] = problem.lagrangian(0);
  solution.lagrangianBound = lowValue;
  if (lowWeight > capacity) {
    // Resource per unit of cost: start where the bound is informative.
    high = 1e-30;
    while (problem.lagrangian(high).second > capacity) {
      high *= 2;
      if (high > 1e300)
        return std::nullopt;
    }
    for (unsigned step = 0; step < 200 && low < high; ++step) {
      double middle = 0.5 * (low + high);
      if (middle <= low || middle >= high)
        break;
      if (problem.lagrangian(middle).second > capacity)
        low = middle;
      else
        high = middle;
    }
    solution.lagrangianBound =
        std::max(problem.lagrangian(low).first, problem.lagrangian(high).first);
  }
  double lambda =
      problem.lagrangian(low).first >= problem.lagrangian(high).first ? low
                                                                      : high;
  double bound = problem.lagrangian(lambda).first;
  double tolerance = 1e-12 * std::max(std::abs(upper), 1e-300);
  if (upper - bound <= tolerance) {
    solution.objective = upper;
    return solution;
  }

  // 2. Items that may appear in a solution cheaper than `upper`.
  double slack = upper - bound;
  struct Class {
    unsigned block, segment;
    std::vector<Item> items;
    double spread;
  };
  std::vector<Class> freeClasses;
  std::vector<BlockChoice> fixed(formulation.numBlocks);
  double baseWeight = 0, baseCost = 0;
  for (unsigned block = 0; block < formulation.numBlocks; ++block)
    for (unsigned segment = 0; segment < 4; ++segment) {
      std::vector<Item> items = problem.items(block, segment, lambda, slack);
      if (items.empty())
        return std::nullopt; // Rounding: the minimizer itself was lost.
      if (items.size() == 1) {
        const Item &item = items.front();
        fixed[block].partition[segment] = item.partition;
        for (auto [group, option] : item.options)
          fixed[block].option[index(group)] = option;
        baseWeight += item.weight;
        baseCost += item.cost;
        continue;
      }
      double lightest = std::numeric_limits<double>::infinity(), heaviest = 0;
      for (const Item &item : items) {
        lightest = std::min(lightest, item.weight);
        heaviest = std::max(heaviest, item.weight);
      }
      freeClasses.push_back(
          {block, segment, std::move(items), heaviest - lightest});
      solution.freeItems += freeClasses.back().items.size();
    }
  solution.freeClasses = freeClasses.size();
  // Wide classes first: the remaining spread, and so the states, shrink.
  llvm::sort(freeClasses, [](const Class &a, const Class &b) {
    return a.spread > b.spread ||
           (a.spread == b.spread && std::make_pair(a.block, a.segment) <
                                        std::make_pair(b.block, b.segment));
  });

  // Suffix sums for the bounds: lightest weight and Lagrangian minimum of
  // the classes not yet decided.
  size_t numFree = freeClasses.size();
  std::vector<double> restWeight(numFree + 1, 0.0),
      restLagrangian(numFree + 1, 0.0);
  for (size_t i = numFree; i-- > 0;) {
    double lightest = std::numeric_limits<double>::infinity();
    double lagrangianMinimum = std::numeric_limits<double>::infinity();
    for (const Item &item : freeClasses[i].items) {
      lightest = std::min(lightest, item.weight);
      lagrangianMinimum =
          std::min(lagrangianMinimum, item.cost + lambda * item.weight);
    }
    restWeight[i] = restWeight[i + 1] + lightest;
    restLagrangian[i] = restLagrangian[i + 1] + lagrangianMinimum;
  }

  // 3. Pareto DP over (weight, cost), keeping only states that may still
  // end below `upper`.
  std::vector<std::vector<State>> stages;
  std::vector<State> states{{baseWeight, baseCost, 0, 0}};
  uint64_t stored = 1;
  double target = upper - tolerance;
  for (size_t i = 0; i < numFree; ++i) {
    std::vector<State> next;
    const Class &cls = freeClasses[i];
    // Bound the candidates too, not only the Pareto states kept.
    if (states.size() * cls.items.size() > 4 * maxStates)
      return std::nullopt;
    for (uint32_t s = 0; s < states.size(); ++s)
      for (uint32_t it = 0; it < cls.items.size(); ++it) {
        double weight = states[s].weight + cls.items[it].weight;
        double cost = states[s].cost + cls.items[it].cost;
        if (weight + restWeight[i + 1] > capacity)
          continue;
        // Cheapest completion: the Lagrangian minimum of the rest, less the
        // value of the budget left to it.
        if (cost + restLagrangian[i + 1] - lambda * (capacity - weight) >=
            target)
          continue;
        next.push_back({weight, cost, s, it});
      }
    llvm::sort(next, [](const State &a, const State &b) {
      return a.weight < b.weight || (a.weight == b.weight && a.cost < b.cost);
    });
    std::vector<State> pareto;
    double cheapest = std::numeric_limits<double>::infinity();
    for (const State &state : next)
      if (state.cost < cheapest) {
        cheapest = state.cost;
        pareto.push_back(state);
      }
    stored += pareto.size();
    solution.states = stored;
    if (stored > maxStates)
      return std::nullopt;
    stages.push_back(states);
    states = std::move(pareto);
    if (states.empty())
      break;
  }

  // The cheapest final state, if any is cheaper than the incumbent.
  if (!states.empty() && stages.size() == numFree) {
    const State *best = nullptr;
    for (const State &state : states)
      if (state.weight <= capacity && (!best || state.cost < best->cost))
        best = &state;
    if (best && best->cost < target) {
      std::vector<BlockChoice> choices = fixed;
      State current = *best;
      for (size_t i = numFree; i-- > 0;) {
        const Class &cls = freeClasses[i];
        const Item &item = cls.items[current.item];
        choices[cls.block].partition[cls.segment] = item.partition;
        for (auto [group, option] : item.options)
          choices[cls.block].option[index(group)] = option;
        current = stages[i][current.parent];
      }
      solution.choices = std::move(choices);
      upper = totals(formulation, solution.choices).objective;
    }
  }
  solution.objective = upper;
  return solution;
}
