//===- ExactDp.cpp - Exact MSQ: Lagrangian core + Pareto DP ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// MSQ is a multiple-choice knapsack with one or two knapsack rows (bytes,
// seconds per token) whose classes are the (block, segment) pairs and whose
// items are the segment's (partition, options) combinations. Its LP bound is
// within a few 1e-4 of the optimum, but branching on single binaries (what
// CBC does) closes that last gap slowly: the question is which few layers
// move one step to fill the budgets exactly. This solver closes it by
// enumeration:
//
//  1. The Lagrangian L(lambda) = sum_k min_i (c_ki + lambda . w_ki) -
//     lambda . W, with one multiplier per budget, is maximized over
//     lambda >= 0 (= the LP bound): by bisection on the slope for one
//     budget; for two, by bisection on the slope in lambda_seconds of the
//     best L over lambda_bytes (itself a bisection). Any lambda gives a valid
//     bound; the search only makes it tight.
//  2. With an incumbent of cost U, a solution cheaper than U can only use
//     items of reduced cost c + lambda . w - min <= U - L; all other items
//     are dropped, which leaves few items in few classes.
//  3. A Pareto dynamic program over (weights, cost) enumerates the
//     remaining combinations, pruned by the budgets and by the same
//     Lagrangian bound; a state survives unless another one is no heavier in
//     every budget and no costlier (with two budgets, a staircase over
//     seconds in order of bytes finds the dominating state in log time). It
//     returns a solution cheaper than U or proves that none exists.
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
#include <map>

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::detail;

static unsigned index(FusionGroup group) {
  return static_cast<unsigned>(group);
}

namespace {
/// The budgeted resources: bytes and seconds per token, in that order.
constexpr unsigned kResources = 2;
using Weights = std::array<double, kResources>;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// One item of a class: a partition of the segment and an option per group.
struct Item {
  unsigned partition = 0;
  llvm::SmallVector<std::pair<FusionGroup, int>, 3> options;
  Weights weight{};
  double cost = 0;
};

/// A DP state: the resources used, the cost, and how it was reached.
struct State {
  Weights weight;
  double cost;
  uint32_t parent;
  uint32_t item;
};

/// A point of the Lagrangian: its multipliers, its value and the resources
/// of a minimizer.
struct DualPoint {
  Weights lambda;
  double value;
  Weights weight;
};

/// Maximizes a concave function of one multiplier t >= 0 whose slope at t is
/// (resource r of the minimizer at t) - `capacity`, by bisection on the
/// slope's sign after bracketing; `evaluate(t)` gives the point at t, or
/// std::nullopt. Returns the best point evaluated; std::nullopt when no t
/// brings the minimizer within the capacity or an evaluation fails.
template <typename Evaluate>
std::optional<DualPoint> maximizeConcave(Evaluate evaluate, unsigned r,
                                         double capacity, unsigned steps) {
  std::optional<DualPoint> low = evaluate(0.0);
  if (!low)
    return std::nullopt;
  DualPoint best = *low;
  auto consider = [&](const DualPoint &point) {
    if (point.value > best.value)
      best = point;
  };
  if (low->weight[r] <= capacity)
    return best;
  double lowT = 0, highT = 1e-30;
  for (;;) {
    std::optional<DualPoint> high = evaluate(highT);
    if (!high)
      return std::nullopt;
    consider(*high);
    if (high->weight[r] <= capacity)
      break;
    lowT = highT;
    highT *= 4;
    if (highT > 1e300)
      return std::nullopt;
  }
  for (unsigned step = 0; step < steps; ++step) {
    double middle = 0.5 * (lowT + highT);
    if (middle <= lowT || middle >= highT)
      break;
    std::optional<DualPoint> point = evaluate(middle);
    if (!point)
      return std::nullopt;
    consider(*point);
    (point->weight[r] > capacity ? lowT : highT) = middle;
  }
  return best;
}

/// The knapsack view of a formulation: every resource has a capacity, +inf
/// where it has no budget (whose multiplier stays 0).
class Knapsack {
public:
  explicit Knapsack(const Formulation &formulation) : formulation(formulation) {
    capacity.fill(kInfinity);
    if (formulation.bytesBudget)
      capacity[0] =
          *formulation.bytesBudget + 1e-12 * std::abs(*formulation.bytesBudget);
    if (formulation.secondsBudget)
      capacity[1] = *formulation.secondsBudget +
                    1e-12 * std::abs(*formulation.secondsBudget);
    // The dual search evaluates L thousands of times: costs and weights
    // are tabulated once.
    costTable.resize(size_t(formulation.numBlocks) * kNumFusionGroups);
    for (FusionGroup group : kAllFusionGroups) {
      const auto &options = formulation.options[index(group)];
      for (const GroupOption &option : options)
        weightTable[index(group)].push_back(resources(option));
      for (unsigned block = 0; block < formulation.numBlocks; ++block)
        for (unsigned o = 0; o < options.size(); ++o)
          costTable[block * kNumFusionGroups + index(group)].push_back(
              formulation.cost(block, group, o));
    }
  }

  /// a-weighted error of option `o` of `group` in `block`.
  double costOf(unsigned block, FusionGroup group, unsigned o) const {
    return costTable[block * kNumFusionGroups + index(group)][o];
  }
  /// The budgeted resources of option `o` of `group`.
  const Weights &weightOf(FusionGroup group, unsigned o) const {
    return weightTable[index(group)][o];
  }

  /// The budgeted resources of `option` (0 for a resource without a
  /// budget, which neither prices nor dominates).
  Weights resources(const GroupOption &option) const {
    return {budgeted(0) ? option.bytes : 0.0,
            budgeted(1) ? option.seconds : 0.0};
  }
  bool budgeted(unsigned r) const { return capacity[r] != kInfinity; }
  /// lambda . w over the budgeted resources.
  double price(const Weights &lambda, const Weights &weight) const {
    double sum = 0;
    for (unsigned r = 0; r < kResources; ++r)
      if (budgeted(r))
        sum += lambda[r] * weight[r];
    return sum;
  }

  /// The option of `group` in `block` with the least cost + lambda . w, and
  /// that value.
  std::pair<double, int> bestOption(unsigned block, FusionGroup group,
                                    const Weights &lambda) const {
    double best = kInfinity;
    int option = -1;
    for (unsigned o = 0, e = formulation.options[index(group)].size(); o < e;
         ++o) {
      double value =
          costOf(block, group, o) + price(lambda, weightOf(group, o));
      if (value < best) {
        best = value;
        option = static_cast<int>(o);
      }
    }
    return {best, option};
  }

  /// min over the items of class (block, segment) of cost + lambda . w, and
  /// the weights of a minimizer.
  std::pair<double, Weights> classMinimum(unsigned block, unsigned segment,
                                          const Weights &lambda) const {
    double best = kInfinity;
    Weights bestWeight{};
    for (const auto &partition : formulation.segments[segment].partitions) {
      double sum = 0;
      Weights weight{};
      for (FusionGroup group : partition) {
        auto [groupBest, option] = bestOption(block, group, lambda);
        sum += groupBest;
        if (option >= 0)
          for (unsigned r = 0; r < kResources; ++r)
            weight[r] += weightOf(group, option)[r];
      }
      if (sum < best) {
        best = sum;
        bestWeight = weight;
      }
    }
    return {best, bestWeight};
  }

  /// The minimizer of cost + lambda . w of every class, as block choices.
  std::vector<BlockChoice> minimizer(const Weights &lambda) const {
    std::vector<BlockChoice> choices(formulation.numBlocks);
    for (unsigned block = 0; block < formulation.numBlocks; ++block)
      for (unsigned segment = 0; segment < 4; ++segment) {
        double best = kInfinity;
        const auto &partitions = formulation.segments[segment].partitions;
        for (unsigned p = 0; p < partitions.size(); ++p) {
          double sum = 0;
          llvm::SmallVector<std::pair<FusionGroup, int>, 3> picked;
          for (FusionGroup group : partitions[p]) {
            auto [groupBest, option] = bestOption(block, group, lambda);
            sum += groupBest;
            picked.emplace_back(group, option);
          }
          if (sum < best) {
            best = sum;
            BlockChoice &choice = choices[block];
            for (FusionGroup group : formulation.segments[segment].groups)
              choice.option[index(group)] = -1;
            choice.partition[segment] = p;
            for (auto [group, option] : picked)
              choice.option[index(group)] = option;
          }
        }
      }
    return choices;
  }

  /// L(lambda) and the weights of the minimizer.
  DualPoint lagrangian(const Weights &lambda) const {
    DualPoint point{lambda, 0, {}};
    for (unsigned r = 0; r < kResources; ++r)
      if (budgeted(r))
        point.value -= lambda[r] * capacity[r];
    for (unsigned block = 0; block < formulation.numBlocks; ++block)
      for (unsigned segment = 0; segment < 4; ++segment) {
        auto [minimum, weight] = classMinimum(block, segment, lambda);
        point.value += minimum;
        for (unsigned r = 0; r < kResources; ++r)
          point.weight[r] += weight[r];
      }
    return point;
  }

  /// Maximizes L over lambda[r] >= 0 with the other multiplier fixed.
  std::optional<DualPoint> maximizeAlong(unsigned r, Weights lambda,
                                         unsigned steps) const {
    return maximizeConcave(
        [&](double t) -> std::optional<DualPoint> {
          lambda[r] = t;
          return lagrangian(lambda);
        },
        r, capacity[r], steps);
  }

  /// The items of class (block, segment) whose reduced cost at `lambda` is
  /// at most `slack`.
  std::vector<Item> items(unsigned block, unsigned segment,
                          const Weights &lambda, double slack) const {
    double minimum = classMinimum(block, segment, lambda).first;
    std::vector<Item> result;
    const Segment &seg = formulation.segments[segment];
    for (unsigned p = 0; p < seg.partitions.size(); ++p) {
      const auto &partition = seg.partitions[p];
      // Reduced costs per group, relative to the group's own minimum.
      llvm::SmallVector<double, 3> groupMinimum;
      double partitionMinimum = 0;
      for (FusionGroup group : partition) {
        double best = bestOption(block, group, lambda).first;
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

  Weights capacity;

private:
  void enumerate(unsigned block, llvm::ArrayRef<FusionGroup> partition,
                 llvm::ArrayRef<double> groupMinimum, unsigned position,
                 double reduced, double slack, const Weights &lambda,
                 Item &item, std::vector<Item> &out) const {
    if (position == partition.size()) {
      out.push_back(item);
      return;
    }
    FusionGroup group = partition[position];
    const auto &options = formulation.options[index(group)];
    for (unsigned o = 0; o < options.size(); ++o) {
      double optionCost = costOf(block, group, o);
      const Weights &optionWeight = weightOf(group, o);
      double groupReduced =
          optionCost + price(lambda, optionWeight) - groupMinimum[position];
      if (reduced + groupReduced > slack)
        continue;
      Item saved = item;
      item.options.emplace_back(group, o);
      item.cost += optionCost;
      for (unsigned r = 0; r < kResources; ++r)
        item.weight[r] += optionWeight[r];
      enumerate(block, partition, groupMinimum, position + 1,
                reduced + groupReduced, slack, lambda, item, out);
      item = std::move(saved);
    }
  }

  const Formulation &formulation;
  std::vector<std::vector<double>> costTable;
  std::array<std::vector<Weights>, kNumFusionGroups> weightTable;
};

/// Keeps the states of `candidates` that no other candidate dominates (no
/// heavier in any resource, no costlier), in order of bytes.
std::vector<State> paretoFront(std::vector<State> candidates) {
  llvm::sort(candidates, [](const State &a, const State &b) {
    return std::tie(a.weight[0], a.weight[1], a.cost) <
           std::tie(b.weight[0], b.weight[1], b.cost);
  });
  // The staircase of the states kept so far (all no heavier in bytes than
  // the next candidate): seconds ascending, cost strictly descending, so
  // the entry at or below a candidate's seconds is the cheapest such state.
  std::map<double, double> staircase;
  std::vector<State> front;
  for (const State &state : candidates) {
    auto above = staircase.upper_bound(state.weight[1]);
    if (above != staircase.begin() && std::prev(above)->second <= state.cost)
      continue;
    front.push_back(state);
    // Entries at or above this state's seconds that cost no less are now
    // dominated on the staircase.
    auto it = staircase.lower_bound(state.weight[1]);
    while (it != staircase.end() && it->second >= state.cost)
      it = staircase.erase(it);
    staircase[state.weight[1]] = state.cost;
  }
  return front;
}
} // namespace

/// solveExactly, knowing that no plan costs less than `floor` (the optimum
/// of a relaxation).
static std::optional<ExactSolution>
solveAbove(const Formulation &formulation,
           const std::vector<BlockChoice> &incumbent, uint64_t maxStates,
           double floor) {
  Knapsack problem(formulation);
  const Weights &capacity = problem.capacity;

  ExactSolution solution;
  solution.choices = incumbent;
  double upper = totals(formulation, incumbent).objective;

  // 1. The Lagrangian dual (concave in lambda). With two budgets, g(mu) =
  // max over lambda_bytes of L(lambda_bytes, mu) is concave in mu =
  // lambda_seconds with slope (seconds of its minimizer - capacity): the
  // same bisection over mu, each g by a bisection over lambda_bytes.
  std::optional<DualPoint> dual;
  if (problem.budgeted(0) && problem.budgeted(1))
    dual = maximizeConcave(
        [&](double mu) {
          return problem.maximizeAlong(0, {0, mu}, 60);
        },
        1, capacity[1], 60);
  else
    dual = problem.maximizeAlong(problem.budgeted(0) ? 0 : 1, {}, 200);
  if (!dual)
    return std::nullopt;
  DualPoint best = *dual;
  Weights lambda = best.lambda;
  double bound = best.value;
  solution.lagrangianBound = bound;

  // A better incumbent makes the filter below tighter: the minimizer at
  // t * lambda for the least t >= 1 that fits the budgets, improved
  // greedily. (With two budgets the heuristic's single multiplier on
  // normalized resources can leave a few percent.)
  {
    auto fits = [&](const std::vector<BlockChoice> &choices) {
      return fitsBudgets(formulation, totals(formulation, choices));
    };
    auto scaled = [&](double t) {
      Weights at = lambda;
      for (double &value : at)
        value *= t;
      return problem.minimizer(at);
    };
    std::optional<std::vector<BlockChoice>> repaired = scaled(1);
    if (!fits(*repaired)) {
      double low = 1, high = 2;
      repaired = scaled(high);
      while (!fits(*repaired) && high < 1e12)
        repaired = scaled(high *= 2);
      if (!fits(*repaired)) {
        repaired.reset();
      } else {
        for (unsigned step = 0; step < 60; ++step) {
          double middle = 0.5 * (low + high);
          std::vector<BlockChoice> choices = scaled(middle);
          if (fits(choices)) {
            high = middle;
            repaired = std::move(choices);
          } else {
            low = middle;
          }
        }
      }
    }
    if (repaired) {
      greedyImprove(formulation, *repaired);
      double objective = totals(formulation, *repaired).objective;
      if (objective < upper) {
        upper = objective;
        solution.choices = std::move(*repaired);
      }
    }
  }
  double tolerance = 1e-12 * std::max(std::abs(upper), 1e-300);
  if (upper - bound <= tolerance) {
    solution.objective = upper;
    return solution;
  }

  // Every lambda >= 0 bounds, so the filter and the DP use several: lambda
  // itself and, with two budgets, lambda with one coordinate scaled. At the
  // dual optimum L is flat along a face; states or items that spend one
  // resource too freely are cut by the multipliers that price it higher.
  std::vector<Weights> multipliers{lambda};
  if (problem.budgeted(0) && problem.budgeted(1))
    for (unsigned r = 0; r < kResources; ++r)
      for (double factor : {0.25, 0.5, 0.8, 1.25, 2.0, 4.0}) {
        Weights at = lambda;
        at[r] *= factor;
        multipliers.push_back(at);
      }
  std::vector<double> multiplierBound;
  for (const Weights &at : multipliers)
    multiplierBound.push_back(problem.lagrangian(at).value);

  // Steps 2 and 3 find the cheapest plan below `target`, if one exists.
  // Started with a target just above the bound, where the filter and the
  // pruning are tightest, and raised towards the incumbent until a plan is
  // found (it is then the optimum: every plan below the target was
  // enumerated) or none below the incumbent exists.
  enum class Attempt { Found, NoneBelow, GaveUp };
  auto attempt = [&](double target) -> Attempt {
    uint64_t stored = 1;
    // 2. Items that may appear in a solution cheaper than `target`.
    double slack = target - bound;
    struct Class {
      unsigned block, segment;
      std::vector<Item> items;
      double spread;
    };
    std::vector<Class> freeClasses;
    std::vector<BlockChoice> fixed(formulation.numBlocks);
    Weights baseWeight{};
    double baseCost = 0;
    for (unsigned block = 0; block < formulation.numBlocks; ++block)
      for (unsigned segment = 0; segment < 4; ++segment) {
        std::vector<Item> items = problem.items(block, segment, lambda, slack);
        // An item must pass the filter of every multiplier.
        for (size_t j = 1; j < multipliers.size() && items.size() > 1; ++j) {
          double minimum =
              problem.classMinimum(block, segment, multipliers[j]).first;
          double jSlack = target - multiplierBound[j];
          llvm::erase_if(items, [&](const Item &item) {
            return item.cost + problem.price(multipliers[j], item.weight) -
                       minimum >
                   jSlack;
          });
        }
        if (items.empty())
          return Attempt::GaveUp; // Rounding: the minimizer itself was lost.
        if (items.size() == 1) {
          const Item &item = items.front();
          fixed[block].partition[segment] = item.partition;
          for (auto [group, option] : item.options)
            fixed[block].option[index(group)] = option;
          for (unsigned r = 0; r < kResources; ++r)
            baseWeight[r] += item.weight[r];
          baseCost += item.cost;
          continue;
        }
        // The spread, in each resource relative to its capacity.
        double spread = 0;
        for (unsigned r = 0; r < kResources; ++r) {
          if (!problem.budgeted(r))
            continue;
          double lightest = kInfinity, heaviest = 0;
          for (const Item &item : items) {
            lightest = std::min(lightest, item.weight[r]);
            heaviest = std::max(heaviest, item.weight[r]);
          }
          spread += (heaviest - lightest) / capacity[r];
        }
        freeClasses.push_back({block, segment, std::move(items), spread});
        solution.freeItems += freeClasses.back().items.size();
      }
    solution.freeClasses = freeClasses.size();
    // Wide classes first: the remaining spread, and so the states, shrink.
    llvm::sort(freeClasses, [](const Class &a, const Class &b) {
      return a.spread > b.spread ||
             (a.spread == b.spread && std::make_pair(a.block, a.segment) <
                                          std::make_pair(b.block, b.segment));
    });

    // Suffix sums for the bounds: the lightest weight in each resource and
    // the Lagrangian minimum of the classes not yet decided.
    size_t numFree = freeClasses.size();
    size_t numMultipliers = multipliers.size();
    std::vector<Weights> restWeight(numFree + 1, Weights{});
    // restLagrangian[i * numMultipliers + j]: over the classes from i on, the
    // sum of min(cost + multipliers[j] . w).
    std::vector<double> restLagrangian((numFree + 1) * numMultipliers, 0.0);
    for (size_t i = numFree; i-- > 0;) {
      Weights lightest;
      lightest.fill(kInfinity);
      for (const Item &item : freeClasses[i].items)
        for (unsigned r = 0; r < kResources; ++r)
          lightest[r] = std::min(lightest[r], item.weight[r]);
      for (unsigned r = 0; r < kResources; ++r)
        restWeight[i][r] = restWeight[i + 1][r] + lightest[r];
      for (size_t j = 0; j < numMultipliers; ++j) {
        double lagrangianMinimum = kInfinity;
        for (const Item &item : freeClasses[i].items)
          lagrangianMinimum =
              std::min(lagrangianMinimum,
                       item.cost + problem.price(multipliers[j], item.weight));
        restLagrangian[i * numMultipliers + j] =
            restLagrangian[(i + 1) * numMultipliers + j] + lagrangianMinimum;
      }
    }

    // With two budgets, exact completions in one resource: for the classes
    // from i on, suffix[r][i] is the Pareto front of (weight r, cost +
    // lambda_other * weight other), weight ascending and value descending,
    // of every combination that fits resource r. A state's completion then
    // costs at least F(capacity r left) - lambda_other * (capacity other
    // left), far tighter than the Lagrangian bound in both. A front grown
    // past the state limit is dropped (its bound is not used).
    std::array<std::vector<std::vector<std::pair<double, double>>>, kResources>
        suffix;
    if (problem.budgeted(0) && problem.budgeted(1))
      for (unsigned r = 0; r < kResources; ++r) {
        unsigned other = 1 - r;
        auto &fronts = suffix[r];
        fronts.assign(numFree + 1, {});
        fronts[numFree] = {{0.0, 0.0}};
        // What the decided part of a plan weighs at least: the fixed
        // classes and the lightest item of each free class before i.
        std::vector<double> before(numFree + 1, baseWeight[r]);
        for (size_t i = 0; i < numFree; ++i)
          before[i + 1] = before[i] + (restWeight[i][r] - restWeight[i + 1][r]);
        uint64_t points = 0;
        for (size_t i = numFree; i-- > 0;) {
          std::vector<std::pair<double, double>> next;
          for (const auto &[weight, value] : fronts[i + 1])
            for (const Item &item : freeClasses[i].items) {
              double total = weight + item.weight[r];
              if (before[i] + total <= capacity[r])
                next.push_back({total, value + item.cost +
                                           lambda[other] * item.weight[other]});
            }
          llvm::sort(next);
          for (const auto &point : next)
            if (fronts[i].empty() || point.second < fronts[i].back().second)
              fronts[i].push_back(point);
          points += fronts[i].size();
          if (points > maxStates) {
            fronts.clear();
            break;
          }
        }
      }
    /// The least value of a completion from class i on within `left` of
    /// resource r, or +inf when none fits; 0 without the fronts.
    auto exactRest = [&](unsigned r, size_t i, double left) {
      if (suffix[r].empty())
        return 0.0;
      const auto &front = suffix[r][i];
      auto it = std::upper_bound(
          front.begin(), front.end(), left,
          [](double bound, const std::pair<double, double> &point) {
            return bound < point.first;
          });
      return it == front.begin() ? kInfinity : std::prev(it)->second;
    };

    // 3. Pareto DP over (weights, cost), keeping only states that may still
    // end below `target`.
    std::vector<std::vector<State>> stages;
    std::vector<State> states{{baseWeight, baseCost, 0, 0}};
    for (size_t i = 0; i < numFree; ++i) {
      std::vector<State> next;
      const Class &cls = freeClasses[i];
      // Bound the candidates too, not only the Pareto states kept.
      if (states.size() * cls.items.size() > 4 * maxStates)
        return Attempt::GaveUp;
      for (uint32_t s = 0; s < states.size(); ++s)
        for (uint32_t it = 0; it < cls.items.size(); ++it) {
          State candidate{states[s].weight, states[s].cost + cls.items[it].cost,
                          s, it};
          bool fits = true;
          Weights left{};
          for (unsigned r = 0; r < kResources; ++r) {
            candidate.weight[r] += cls.items[it].weight[r];
            if (!problem.budgeted(r))
              continue;
            fits &= candidate.weight[r] + restWeight[i + 1][r] <= capacity[r];
            left[r] = capacity[r] - candidate.weight[r];
          }
          if (!fits)
            continue;
          // Cheapest completion: by every multiplier, the Lagrangian minimum
          // of the rest less the value of the budgets left to it.
          bool promising = true;
          for (size_t j = 0; j < numMultipliers && promising; ++j)
            promising = candidate.cost +
                            restLagrangian[(i + 1) * numMultipliers + j] -
                            problem.price(multipliers[j], left) <
                        target;
          for (unsigned r = 0; r < kResources && promising; ++r)
            if (!suffix[r].empty())
              promising = candidate.cost + exactRest(r, i + 1, left[r]) -
                              lambda[1 - r] * left[1 - r] <
                          target;
          if (promising)
            next.push_back(candidate);
        }
      std::vector<State> front = paretoFront(std::move(next));
      stored += front.size();
      ++solution.states;
      solution.states += front.size();
      if (stored > maxStates)
        return Attempt::GaveUp;
      stages.push_back(std::move(states));
      states = std::move(front);
      if (states.empty())
        break;
    }

    // The cheapest final state, if any is cheaper than the incumbent.
    if (!states.empty() && stages.size() == numFree) {
      const State *cheapest = nullptr;
      for (const State &state : states) {
        bool fits = true;
        for (unsigned r = 0; r < kResources; ++r)
          fits &= state.weight[r] <= capacity[r];
        if (fits && (!cheapest || state.cost < cheapest->cost))
          cheapest = &state;
      }
      if (cheapest && cheapest->cost < target && cheapest->cost < upper) {
        std::vector<BlockChoice> choices = fixed;
        State current = *cheapest;
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
        return Attempt::Found;
      }
    }
    return Attempt::NoneBelow;
  };
  double target = upper - tolerance;
  double lowest = std::max(bound, floor);
  for (double gap = (upper - lowest) / 64;; gap *= 2) {
    double tried = std::min(lowest + gap, upper - tolerance);
    Attempt result = attempt(tried);
    if (result == Attempt::GaveUp)
      return std::nullopt;
    if (result == Attempt::Found || tried >= target)
      break;
  }
  solution.objective = upper;
  return solution;
}

std::optional<ExactSolution>
detail::solveExactly(const Formulation &formulation,
                     const std::vector<BlockChoice> &incumbent,
                     uint64_t maxStates) {
  if (!formulation.secondsBudget && !formulation.bytesBudget)
    return std::nullopt;
  if (!formulation.secondsBudget || !formulation.bytesBudget)
    return solveAbove(formulation, incumbent, maxStates, 0);
  // Two budgets. Often one of them does not bind: the optimum with the
  // other alone (a one-budget DP, fast) then fits both and is the optimum.
  // Otherwise the larger of the two relaxed optima is a floor for the
  // targets of the two-budget DP.
  double floor = 0;
  for (bool keepBytes : {true, false}) {
    Formulation relaxed = formulation;
    (keepBytes ? relaxed.secondsBudget : relaxed.bytesBudget).reset();
    std::optional<ExactSolution> alone =
        solveAbove(relaxed, incumbent, maxStates, 0);
    if (!alone)
      continue;
    if (fitsBudgets(formulation, totals(formulation, alone->choices)))
      return alone;
    floor = std::max(floor, alone->objective);
  }
  return solveAbove(formulation, incumbent, maxStates, floor);
}
