//===- MsqTest.cpp - MSQ solvers against brute force, errors, bounds ------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "AllocTestUtils.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <random>

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::test;

namespace {

/// A two-head model small enough to enumerate: q/o 64x64, k/v 32x64,
/// gate/up 128x64, down 64x128.
ModelConfig tinyModel(unsigned blocks, int64_t hidden = 64) {
  ModelConfig model;
  model.name = "tiny";
  model.hiddenSize = hidden;
  model.intermediateSize = 128;
  model.numHeads = 2;
  model.numKvHeads = 1;
  model.headDim = 32;
  model.numBlocks = blocks;
  model.vocabSize = 256;
  return model;
}

/// A latency table for `model`: the roofline model's values scaled by a
/// random factor per entry, so fusion sometimes pays and sometimes not.
std::shared_ptr<const LatencyModel>
randomTable(const ModelConfig &model, llvm::ArrayRef<QuantizerSpec> palette,
            std::mt19937 &random) {
  RooflineModel roofline(model);
  auto table = std::make_shared<LatencyTable>("random", 1e-3);
  std::uniform_real_distribution<double> factor(0.6, 1.4);
  for (FusionGroup group : kAllFusionGroups) {
    table->setGroupShape(group, model.shape(group));
    for (const QuantizerSpec &quantizer : palette)
      table->set(group, quantizer, quantizer.kernel,
                 unwrap(roofline.groupSeconds(group, model.shape(group),
                                              quantizer, quantizer.kernel)) *
                     factor(random));
  }
  return table;
}

/// Objective, bytes and seconds of one block configuration.
struct Costs {
  double objective = 0;
  double bytes = 0;
  double seconds = 0;
};

/// The error of a quantizer in one layer, as the brute force sees it.
using LayerErrorFn =
    std::function<double(unsigned, Projection, const QuantizerSpec &)>;

/// Every configuration of block `block`, enumerated without the library's
/// formulation: each admissible partition, each quantizer per group; errors
/// from `errorOf`, else the Gaussian err(q).
std::vector<Costs> enumerateBlock(const MsqProblem &problem, unsigned block,
                                  const LayerErrorFn &errorOf = nullptr) {
  using G = FusionGroup;
  std::vector<std::vector<std::vector<G>>> segments = {
      {{G::Q, G::K, G::V},
       {G::QK, G::V},
       {G::KV, G::Q},
       {G::QV, G::K},
       {G::QKV}},
      {{G::O}},
      {{G::Up, G::Gate}, {G::UG}},
      {{G::Down}}};
  auto groupCosts = [&](G group, const QuantizerSpec &quantizer) {
    Costs costs;
    for (Projection member : fusionGroupMembers(group)) {
      LayerShape shape = problem.model.shape(member);
      costs.objective += problem.sensitivities.at(block, member) *
                         (errorOf ? errorOf(block, member, quantizer)
                                  : quantizer.expectedDistortion());
      costs.bytes += problem.memoryModel == MemoryModel::Full
                         ? quantizer.storageBytes(shape.rows, shape.cols)
                         : quantizer.codeBytes(shape.rows, shape.cols) +
                               quantizer.codebookBytes();
    }
    costs.seconds = unwrap(problem.latency->groupSeconds(
        group, problem.model.shape(group), quantizer, quantizer.kernel));
    return costs;
  };
  std::vector<Costs> configs = {Costs()};
  for (const auto &partitions : segments) {
    std::vector<Costs> segmentConfigs;
    for (const auto &partition : partitions) {
      if (llvm::any_of(partition, [&](G group) {
            return isFusedGroup(group) &&
                   !llvm::is_contained(problem.fusedGroups, group);
          }))
        continue;
      std::vector<Costs> partial = {Costs()};
      for (G group : partition) {
        std::vector<Costs> next;
        for (const Costs &base : partial)
          for (const QuantizerSpec &quantizer : problem.palette) {
            Costs added = groupCosts(group, quantizer);
            next.push_back({base.objective + added.objective,
                            base.bytes + added.bytes,
                            base.seconds + added.seconds});
          }
        partial = std::move(next);
      }
      segmentConfigs.insert(segmentConfigs.end(), partial.begin(),
                            partial.end());
    }
    std::vector<Costs> next;
    for (const Costs &base : configs)
      for (const Costs &added : segmentConfigs)
        next.push_back({base.objective + added.objective,
                        base.bytes + added.bytes,
                        base.seconds + added.seconds});
    configs = std::move(next);
  }
  if (problem.memoryModel == MemoryModel::Full)
    for (Costs &costs : configs)
      costs.bytes += problem.model.signBytesPerBlock();
  for (Costs &costs : configs)
    costs.seconds +=
        problem.latency->constantSeconds() / problem.model.numBlocks;
  return configs;
}

struct Budget {
  std::optional<double> bytes;
  std::optional<double> seconds;
};

/// The optimum over all plans of a two-block problem for each budget
/// (infinity where none is feasible).
std::vector<double> bruteForce(const MsqProblem &problem,
                               llvm::ArrayRef<Budget> budgets,
                               const LayerErrorFn &errorOf = nullptr) {
  std::vector<Costs> first = enumerateBlock(problem, 0, errorOf);
  std::vector<Costs> second = enumerateBlock(problem, 1, errorOf);
  std::vector<double> best(budgets.size(),
                           std::numeric_limits<double>::infinity());
  for (const Costs &a : first)
    for (const Costs &b : second) {
      double objective = a.objective + b.objective;
      double bytes = a.bytes + b.bytes, seconds = a.seconds + b.seconds;
      for (size_t i = 0; i < budgets.size(); ++i)
        if (objective < best[i] &&
            (!budgets[i].bytes || bytes <= *budgets[i].bytes) &&
            (!budgets[i].seconds || seconds <= *budgets[i].seconds))
          best[i] = objective;
    }
  return best;
}

/// Budgets between the cheapest and the most expensive two-block plan of
/// `configs` (one block's configurations): each (bytes, seconds) fraction,
/// where given, places one budget.
std::vector<Budget> budgetsBetween(
    const std::vector<Costs> &configs,
    llvm::ArrayRef<std::pair<std::optional<double>, std::optional<double>>>
        fractions) {
  double minBytes = 1e300, maxBytes = 0, minSeconds = 1e300, maxSeconds = 0;
  for (const Costs &costs : configs) {
    minBytes = std::min(minBytes, costs.bytes);
    maxBytes = std::max(maxBytes, costs.bytes);
    minSeconds = std::min(minSeconds, costs.seconds);
    maxSeconds = std::max(maxSeconds, costs.seconds);
  }
  std::vector<Budget> budgets;
  for (const auto &[bytes, seconds] : fractions) {
    Budget budget;
    if (bytes)
      budget.bytes =
          std::floor(2 * (minBytes + *bytes * (maxBytes - minBytes)));
    if (seconds)
      budget.seconds = 2 * (minSeconds + *seconds * (maxSeconds - minSeconds));
    budgets.push_back(budget);
  }
  return budgets;
}

/// `problem` with `budget`.
MsqProblem withBudget(const MsqProblem &problem, const Budget &budget) {
  MsqProblem instance = problem;
  if (budget.bytes)
    instance.maxBytes = static_cast<uint64_t>(*budget.bytes);
  if (budget.seconds)
    instance.minTokensPerSecond = 1.0 / *budget.seconds;
  return instance;
}

/// Solves `instance` (of `budget`) with every solver at a zero gap and
/// checks the plans against the brute-force `optimum`: the objective, a
/// proof of optimality, the bound, the budgets, the cover. Returns the
/// solves checked.
unsigned checkSolvers(const MsqProblem &instance, const Budget &budget,
                      double optimum, const std::string &where) {
  unsigned checked = 0;
  for (MsqSolver solver :
       {MsqSolver::Auto, MsqSolver::Cbc, MsqSolver::LagrangianDp}) {
    SolveOptions options;
    options.solver = solver;
    options.relativeGap = 0;
    auto plan = solveMsq(instance, options);
    std::string at =
        where + llvm::formatv(" solver {0}", static_cast<int>(solver)).str();
    if (std::isinf(optimum)) {
      EXPECT_FALSE(static_cast<bool>(plan)) << at;
      llvm::consumeError(plan.takeError());
      continue;
    }
    if (!plan) {
      ADD_FAILURE() << at << ": " << llvm::toString(plan.takeError());
      continue;
    }
    EXPECT_NEAR(plan->objective, optimum, 1e-9 * optimum) << at;
    EXPECT_EQ(plan->status, SolveStatus::Optimal) << at;
    EXPECT_LE(plan->bound, plan->objective) << at;
    EXPECT_GE(plan->bound, optimum * (1 - 1e-9)) << at;
    // The plan honours the budgets it was solved for.
    PlanCosts costs = unwrap(evaluatePlan(instance, *plan));
    EXPECT_NEAR(costs.objective, plan->objective, 1e-12) << at;
    if (budget.bytes)
      EXPECT_LE(costs.memory.bytes(instance.memoryModel), *budget.bytes) << at;
    if (budget.seconds)
      EXPECT_LE(*costs.secondsPerToken, *budget.seconds * (1 + 1e-9)) << at;
    EXPECT_FALSE(static_cast<bool>(verifyCover(*plan))) << at;
    ++checked;
  }
  return checked;
}

/// CBC, the Lagrangian DP and brute force agree on the optimum of small
/// problems with memory, latency and both budgets, with and without fusion.
TEST(Msq, MatchesBruteForce) {
  const char *palettes[] = {
      "tcq_3_none_0.9,tcomb_5_6_0.5_none_0.9,ldlq_2_6_none_1.0:simt",
      "tcq_5_none_0.9,ldlq_2_6_none_1.0,ldlq_2_6_none_1.0:simt"};
  unsigned checked = 0;
  for (unsigned seed = 0; seed < 4; ++seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<double> coefficient(0.0, 1.0);
    MsqProblem problem;
    problem.model = tinyModel(2);
    problem.palette = unwrap(parsePalette(palettes[seed % 2]));
    problem.memoryModel = seed < 2 ? MemoryModel::Full : MemoryModel::Reference;
    problem.sensitivities = Sensitivities::uniform(2);
    for (auto &row : problem.sensitivities.coefficients)
      for (double &value : row)
        value = coefficient(random);
    problem.latency = randomTable(problem.model, problem.palette, random);
    if (seed % 3 != 2)
      problem.allowAllFusion();
    else
      problem.fusedGroups = {FusionGroup::QKV, FusionGroup::UG};

    // Budgets between the cheapest and the most expensive plan.
    std::vector<Budget> budgets =
        budgetsBetween(enumerateBlock(problem, 0), {{0.3, std::nullopt},
                                                    {0.55, std::nullopt},
                                                    {std::nullopt, 0.2},
                                                    {std::nullopt, 0.5},
                                                    {0.5, 0.3},
                                                    {0.25, 0.6}});
    std::vector<double> optimum = bruteForce(problem, budgets);
    for (size_t i = 0; i < budgets.size(); ++i)
      checked +=
          checkSolvers(withBudget(problem, budgets[i]), budgets[i], optimum[i],
                       llvm::formatv("seed {0} budget {1}", seed, i));
  }
  EXPECT_GT(checked, 40u);
}

/// With per-layer errors (each layer its own err_l(q), drawn at random so
/// that no quantizer dominates another in every block) CBC, the Lagrangian
/// DP and brute force agree; the plan's recomputed objective uses the same
/// per-layer errors.
TEST(Msq, MatchesBruteForceWithLayerErrors) {
  unsigned checked = 0;
  for (unsigned seed = 0; seed < 3; ++seed) {
    std::mt19937 random(100 + seed);
    std::uniform_real_distribution<double> coefficient(0.0, 1.0);
    std::uniform_real_distribution<double> factor(0.3, 3.0);
    MsqProblem problem;
    problem.model = tinyModel(2);
    problem.palette = unwrap(
        parsePalette("tcq_3_hess_0.9,tcq_5_hess_0.9,ldlq_2_6_hess_1.0:simt"));
    problem.memoryModel = MemoryModel::Full;
    problem.sensitivities = Sensitivities::uniform(2);
    for (auto &row : problem.sensitivities.coefficients)
      for (double &value : row)
        value = coefficient(random);
    problem.latency = randomTable(problem.model, problem.palette, random);
    problem.allowAllFusion();
    // err_l(q) = err(q) x a random factor per layer.
    auto layerErrors = std::make_shared<LayerErrorModel>(2, "random");
    std::map<std::tuple<unsigned, Projection, std::string>, double> drawn;
    for (const QuantizerSpec &quantizer : problem.palette) {
      QuantizerSpec tc = quantizer;
      tc.kernel = KernelKind::TensorCore;
      for (unsigned block = 0; block < 2; ++block)
        for (Projection projection : kAllProjections) {
          auto key = std::make_tuple(block, projection, tc.referenceName());
          if (!drawn.count(key))
            drawn[key] = quantizer.expectedDistortion() * factor(random);
          layerErrors->set(quantizer, block, projection, drawn[key]);
        }
    }
    problem.layerErrors = layerErrors;
    LayerErrorFn errorOf = [&](unsigned block, Projection projection,
                               const QuantizerSpec &quantizer) {
      QuantizerSpec tc = quantizer;
      tc.kernel = KernelKind::TensorCore;
      return drawn.at(std::make_tuple(block, projection, tc.referenceName()));
    };

    std::vector<Budget> budgets =
        budgetsBetween(enumerateBlock(problem, 0, errorOf),
                       {{0.4, std::nullopt}, {std::nullopt, 0.4}, {0.6, 0.3}});
    std::vector<double> optimum = bruteForce(problem, budgets, errorOf);
    // The per-layer errors change the optimum: the Gaussian errors' plan
    // is worse under them for at least one budget of each seed.
    std::vector<double> gaussianOptimum = bruteForce(problem, budgets);
    bool differs = false;
    for (size_t i = 0; i < budgets.size(); ++i) {
      MsqProblem instance = withBudget(problem, budgets[i]);
      MsqProblem gaussian = instance;
      gaussian.layerErrors = nullptr;
      if (auto plan = solveMsq(gaussian)) {
        EXPECT_NEAR(plan->objective, gaussianOptimum[i],
                    1e-9 * gaussianOptimum[i]);
        PlanCosts costs = unwrap(evaluatePlan(instance, *plan));
        differs |= costs.objective > optimum[i] * (1 + 1e-9);
      } else {
        ADD_FAILURE() << llvm::toString(plan.takeError());
      }
      EXPECT_FALSE(std::isinf(optimum[i]));
      checked += checkSolvers(instance, budgets[i], optimum[i],
                              llvm::formatv("seed {0} budget {1}", seed, i));
    }
    EXPECT_TRUE(differs) << "seed " << seed;
  }
  EXPECT_EQ(checked, 27u);
}

/// Per-layer errors of another model size, or a hess quantizer they cannot
/// price, are refused by name.
TEST(Msq, LayerErrorsMustFitTheProblem) {
  MsqProblem problem;
  problem.model = tinyModel(2);
  problem.palette = unwrap(parsePalette("tcq_3_hess_0.9,ldlq_1_4_hess_1.0"));
  problem.sensitivities = Sensitivities::uniform(2);
  problem.maxBitsPerWeight = 3;
  // tcq_3_hess measured as 0.1 on every layer of `blocks` blocks.
  auto measured = [](unsigned blocks, const char *source) {
    auto model = std::make_shared<LayerErrorModel>(blocks, source);
    for (unsigned block = 0; block < blocks; ++block)
      for (Projection projection : kAllProjections)
        model->set(unwrap(QuantizerSpec::parse("tcq_3_hess_0.9")), block,
                   projection, 0.1);
    return model;
  };
  problem.layerErrors = measured(3, "three.json");
  EXPECT_EQ(errorOf(solveMsq(problem)),
            "layer errors 'three.json' cover 3 blocks but model 'tiny' has 2");
  auto twoBlocks = measured(2, "two.json");
  problem.layerErrors = twoBlocks;
  EXPECT_EQ(errorOf(solveMsq(problem)),
            "layer errors 'two.json' measure no quantizer that rounds as "
            "'ldlq_1_4_hess_1.0' does (the same family, or any trellis code, "
            "with Hessian-aware rounding): measure one with `qpal "
            "layer-errors --quantizer`");
}

/// On problems too large to enumerate, the Lagrangian DP and CBC (asked for
/// a zero gap) agree on the optimum: memory, latency and both budgets.
TEST(Msq, LagrangianDpMatchesCbc) {
  // 8 problems in the regular suite; QPAL_MSQ_CROSS_CHECKS=N runs N (the
  // figures in bench/results/msq-llama31-8b.md).
  unsigned count = 8;
  if (const char *value = std::getenv("QPAL_MSQ_CROSS_CHECKS"))
    count = static_cast<unsigned>(std::atoi(value));
  unsigned compared = 0, twoBudgets = 0;
  for (unsigned seed = 10; seed < 10 + count; ++seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<double> coefficient(0.0, 1.0);
    MsqProblem problem;
    problem.model = tinyModel(8);
    problem.palette = unwrap(parsePalette(
        "tcq_3_none_0.9,tcq_4_none_0.9,tcomb_4_5_0.5_none_0.9,tcq_6_none_0.9,"
        "ldlq_2_6_none_1.0,ldlq_2_6_none_1.0:simt,ldlq_1_4_none_1.0:simt"));
    problem.sensitivities = Sensitivities::uniform(8);
    for (auto &row : problem.sensitivities.coefficients)
      for (double &value : row)
        value = std::pow(coefficient(random), 3);
    problem.latency = randomTable(problem.model, problem.palette, random);
    if (seed % 2)
      problem.allowAllFusion();
    problem.memoryModel =
        seed % 4 < 2 ? MemoryModel::Full : MemoryModel::Reference;
    // Budgets around a uniform tcq_4 plan (codebooks dominate the bytes of
    // such small layers): memory, latency, or both.
    PlanCosts uniform = unwrap(evaluatePlan(
        problem, uniformPlan(problem.model, QuantizerSpec::tcq(4))));
    double uniformSeconds = unwrap(predictSecondsPerToken(
        uniformPlan(problem.model, QuantizerSpec::tcq(4)), *problem.latency));
    if (seed % 3 != 1)
      problem.maxBytes =
          static_cast<uint64_t>(uniform.memory.bytes(problem.memoryModel) *
                                (1.0 + 0.3 * coefficient(random)));
    if (seed % 3 != 0)
      problem.minTokensPerSecond =
          1.0 / (uniformSeconds * (1.0 + 0.2 * coefficient(random)));
    SolveOptions dp, cbc;
    dp.solver = MsqSolver::LagrangianDp;
    cbc.solver = MsqSolver::Cbc;
    cbc.relativeGap = 0;
    Plan exact = unwrap(solveMsq(problem, dp));
    Plan mip = unwrap(solveMsq(problem, cbc));
    EXPECT_EQ(mip.status, SolveStatus::Optimal) << seed;
    EXPECT_NEAR(exact.objective, mip.objective, 1e-9 * mip.objective) << seed;
    EXPECT_LE(mip.bound, exact.objective * (1 + 1e-9)) << seed;
    EXPECT_EQ(exact.solver, "lagrangian-dp") << seed;
    ++compared;
    twoBudgets +=
        problem.maxBytes.has_value() && problem.minTokensPerSecond.has_value();
  }
  EXPECT_EQ(compared, count);
  EXPECT_GE(twoBudgets, count / 3);
  std::printf("%u problems, %u with both budgets\n", compared, twoBudgets);
}

/// Budgets beyond the palette's reach name the budget and the limit.
TEST(Msq, InfeasibleBudgets) {
  MsqProblem problem = llamaProblem();
  problem.palette = unwrap(parsePalette("reference-memory"));
  problem.memoryModel = MemoryModel::Reference;
  problem.maxBitsPerWeight = 1.2;
  std::string message = errorOf(solveMsq(problem));
  EXPECT_NE(message.find("memory budget of 1.2 bits/weight is below the "
                         "palette's minimum of 1.5"),
            std::string::npos)
      << message;

  problem.maxBitsPerWeight.reset();
  problem.maxBytes = 1000;
  message = errorOf(solveMsq(problem));
  EXPECT_NE(message.find("memory budget of 1000 bytes is below the palette's "
                         "minimum of"),
            std::string::npos)
      << message;

  problem.maxBytes.reset();
  problem.palette = unwrap(parsePalette("reference-latency-simt"));
  problem.latency = rtx4090Table();
  problem.allowAllFusion();
  problem.minTokensPerSecond = 300;
  message = errorOf(solveMsq(problem));
  EXPECT_NE(message.find("latency budget of 300 tokens/s (3.333 ms/token) is "
                         "above the palette's maximum of"),
            std::string::npos)
      << message;

  // Each budget alone is reachable, together they are not: 1.5006 bits
  // forces tcq_3 everywhere (224.0 tokens/s); tcq_4 where faster reaches
  // 231.5 tokens/s.
  problem.palette = unwrap(parsePalette("tcq_3_none_0.9,tcq_4_none_0.9"));
  problem.fusedGroups.clear();
  problem.maxBitsPerWeight = 1.5006;
  problem.minTokensPerSecond = 228;
  message = errorOf(solveMsq(problem));
  EXPECT_NE(message.find("the memory budget of 1.501 bits/weight and latency "
                         "budget of 228 tokens/s cannot be met together"),
            std::string::npos)
      << message;
  problem.minTokensPerSecond = 223;
  EXPECT_TRUE(static_cast<bool>(unwrap(solveMsq(problem)).blocks.size()));
}

/// Inconsistent inputs are errors naming the input.
TEST(Msq, RejectsBadProblems) {
  MsqProblem problem = llamaProblem();
  problem.palette = unwrap(parsePalette("reference-latency"));
  EXPECT_NE(errorOf(solveMsq(problem)).find("MSQ needs a budget"),
            std::string::npos);
  problem.minTokensPerSecond = 180;
  EXPECT_NE(errorOf(solveMsq(problem)).find("needs a latency model"),
            std::string::npos);
  problem.latency = rtx4090Table();
  problem.palette.push_back(QuantizerSpec::tcq(2));
  EXPECT_NE(errorOf(solveMsq(problem))
                .find("has no entry for group 'q', quantizer "
                      "'tcq_2_none_0.9'"),
            std::string::npos);
  problem.palette.pop_back();
  problem.distortion = unwrap(DistortionTable::fromJson(
      parseJson(R"({"normalized_mse": {"tcq_6_none_0.9": 0.02}})"),
      "partial.json"));
  EXPECT_NE(errorOf(solveMsq(problem))
                .find("no distortion for quantizer 'tcq_3_none_0.9' in "
                      "'partial.json'"),
            std::string::npos);
  problem.distortion = DistortionTable::expected();
  problem.sensitivities = Sensitivities::uniform(2);
  EXPECT_NE(errorOf(solveMsq(problem))
                .find("sensitivities cover 2 blocks but model 'llama-3.1-8b' "
                      "has 32"),
            std::string::npos);
  problem.palette.clear();
  problem.sensitivities = Sensitivities::uniform(32);
  EXPECT_NE(errorOf(solveMsq(problem)).find("the palette is empty"),
            std::string::npos);

  // A hidden size of 96 cannot be split in halves of 64 columns.
  MsqProblem tiny;
  tiny.model = tinyModel(1, 96);
  tiny.sensitivities = Sensitivities::uniform(1);
  tiny.palette = unwrap(parsePalette("tcomb_5_6_0.5_none_0.9"));
  tiny.maxBitsPerWeight = 4;
  std::string message = errorOf(solveMsq(tiny));
  EXPECT_NE(message.find("no quantizer in the palette can store layer 'q' "
                         "(64x96):\n  expects K divisible by 64 for "
                         "tcomb_5_6_0.5_none_0.9, got 96"),
            std::string::npos)
      << message;
}

/// Fused groups cover each block exactly once and share one quantizer and
/// kernel; a bad cover is reported.
TEST(Msq, FusionCover) {
  MsqProblem problem = llamaProblem();
  problem.palette = unwrap(parsePalette("reference-latency-simt"));
  problem.latency = rtx4090Table();
  problem.allowAllFusion();
  problem.minTokensPerSecond = 200;
  Plan plan = unwrap(solveMsq(problem));
  ASSERT_EQ(plan.blocks.size(), 32u);
  unsigned fused = 0;
  for (const BlockPlan &block : plan.blocks) {
    std::array<unsigned, kNumProjections> covered{};
    for (FusionGroup group : block.groups) {
      fused += isFusedGroup(group);
      for (Projection member : fusionGroupMembers(group)) {
        ++covered[static_cast<unsigned>(member)];
        EXPECT_EQ(block.quantizer(member),
                  block.quantizer(fusionGroupMembers(group).front()));
      }
    }
    for (unsigned count : covered)
      EXPECT_EQ(count, 1u);
  }
  EXPECT_GT(fused, 32u);
  EXPECT_LE(*plan.secondsPerToken, 1.0 / 200 * (1 + 1e-9));

  Plan bad = uniformPlan(problem.model, QuantizerSpec::tcq(6),
                         {FusionGroup::QKV, FusionGroup::UG});
  bad.blocks[3].quantizers[static_cast<unsigned>(Projection::K)] =
      QuantizerSpec::tcq(7);
  EXPECT_NE(llvm::toString(verifyCover(bad))
                .find("block 3: fused group 'qkv' mixes quantizers "
                      "'tcq_6_none_0.9' and 'tcq_7_none_0.9'"),
            std::string::npos);
  Plan twice = uniformPlan(problem.model, QuantizerSpec::tcq(6));
  twice.blocks[5].groups.push_back(FusionGroup::QK);
  EXPECT_NE(llvm::toString(verifyCover(twice))
                .find("block 5: layer 'q' is covered 2 times"),
            std::string::npos);
}

/// A uniform plan's objective is the reference's (kernels-and-msq.md
/// section 13: 0.1192 for tcomb_6_7, 0.1549 for tcq_6).
TEST(Msq, UniformObjective) {
  MsqProblem problem = llamaProblem();
  PlanCosts tcomb = unwrap(evaluatePlan(
      problem, uniformPlan(problem.model, QuantizerSpec::tcqSplit(6, 7))));
  EXPECT_NEAR(tcomb.objective, 0.1192, 5e-5);
  EXPECT_NEAR(tcomb.memory.avgBits(MemoryModel::Reference), 3.25, 1e-3);
  PlanCosts tcq6 = unwrap(
      evaluatePlan(problem, uniformPlan(problem.model, QuantizerSpec::tcq(6))));
  EXPECT_NEAR(tcq6.objective, 0.1549, 5e-5);
}

/// Reverse water filling matches a direct numeric minimization.
TEST(WaterFilling, MatchesNumericSolve) {
  struct Case {
    double a1, a2;
    uint64_t n1, n2;
    double bits;
  } cases[] = {{0.3, 1.2, 100, 300, 1000},
               {1e-4, 1.0, 100, 100, 100},
               {2.0, 2.0, 50, 50, 300}};
  for (const Case &c : cases) {
    // Golden-section search over b1; b2 takes the rest of the bits.
    auto objective = [&](double b1) {
      double b2 = (c.bits - c.n1 * b1) / c.n2;
      return c.a1 * std::exp2(-2 * b1) + c.a2 * std::exp2(-2 * b2);
    };
    // b1 in [0, bits / n1] keeps both rates non-negative.
    double lo = 0, hi = c.bits / c.n1;
    const double ratio = (std::sqrt(5.0) - 1) / 2;
    for (int i = 0; i < 300; ++i) {
      double x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
      if (objective(x1) < objective(x2))
        hi = x2;
      else
        lo = x1;
    }
    double b1 = 0.5 * (lo + hi);
    WaterFilling ideal = unwrap(waterFill({c.a1, c.a2}, {c.n1, c.n2}, c.bits));
    EXPECT_NEAR(ideal.objective, objective(b1), 1e-9 * objective(b1));
    EXPECT_NEAR(ideal.bits[0], b1, 1e-5);
    EXPECT_NEAR(c.n1 * ideal.bits[0] + c.n2 * ideal.bits[1], c.bits,
                1e-6 * c.bits);
  }
  // A layer worth less than the water level gets no bits.
  WaterFilling skewed = unwrap(waterFill({1e-4, 1.0}, {100, 100}, 100));
  EXPECT_EQ(skewed.bits[0], 0.0);
  EXPECT_NEAR(skewed.bits[1], 1.0, 1e-9);
  EXPECT_NE(errorOf(waterFill({1.0}, {0}, 10)).find("positive size"),
            std::string::npos);
}

/// On Llama-3.1-8B the KKT conditions hold, and every palette plan is
/// worse than the ideal quantizers at the same bits.
TEST(WaterFilling, LlamaKkt) {
  MsqProblem problem = llamaProblem();
  WaterFilling ideal = unwrap(waterFill(problem, 3.25));
  double used = 0;
  unsigned l = 0;
  for (unsigned block = 0; block < 32; ++block)
    for (Projection projection : kAllProjections) {
      double a = problem.sensitivities.at(block, projection);
      double n = problem.model.shape(projection).weights();
      used += n * ideal.bits[l];
      double marginal = std::log(4.0) * a * std::exp2(-2 * ideal.bits[l]);
      if (ideal.bits[l] > 0)
        EXPECT_NEAR(marginal, ideal.waterLevel * n, 1e-6 * marginal);
      else
        EXPECT_LE(marginal, ideal.waterLevel * n * (1 + 1e-9));
      ++l;
    }
  EXPECT_NEAR(used, 3.25 * problem.model.linearWeights(), 1e-6 * used);
  PlanCosts uniform = unwrap(evaluatePlan(
      problem, uniformPlan(problem.model, QuantizerSpec::tcqSplit(6, 7))));
  EXPECT_LT(ideal.objective, uniform.objective);
}

} // namespace
