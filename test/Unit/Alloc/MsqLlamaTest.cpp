//===- MsqLlamaTest.cpp - MSQ on the reference's Llama-3.1-8B tables ------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The done-when problems of issue 6: memory-constrained at 3.25 bits (the
// reference's 15-TCQ palette) and latency-constrained at 190 and 200
// tokens/s (32 quantizers, TC and SIMT kernels), with and without fusion,
// on the reference's sensitivities and RTX 4090 latency table.
//
// `MsqLlama.DISABLED_Table` prints bench/results/msq-llama31-8b.md's table:
//   AllocTests --gtest_also_run_disabled_tests \
//              --gtest_filter=MsqLlama.DISABLED_Table
//
//===----------------------------------------------------------------------===//

#include "AllocTestUtils.h"

#include "llvm/Support/raw_ostream.h"

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::test;

namespace {

struct Instance {
  const char *name;
  const char *palette;
  std::optional<double> bits;
  std::optional<double> tokensPerSecond;
  bool fusion;
  MemoryModel memory;
};

const Instance kInstances[] = {
    {"memory 3.25 bits, reference memory model", "reference-memory", 3.25,
     std::nullopt, false, MemoryModel::Reference},
    {"memory 3.25 bits, full memory model", "reference-memory", 3.25,
     std::nullopt, false, MemoryModel::Full},
    {"latency 190 tok/s, no fusion", "reference-latency-simt", std::nullopt,
     190.0, false, MemoryModel::Full},
    {"latency 190 tok/s, fusion", "reference-latency-simt", std::nullopt, 190.0,
     true, MemoryModel::Full},
    {"latency 200 tok/s, no fusion", "reference-latency-simt", std::nullopt,
     200.0, false, MemoryModel::Full},
    {"latency 200 tok/s, fusion", "reference-latency-simt", std::nullopt, 200.0,
     true, MemoryModel::Full},
    {"memory 3.25 bits + latency 190 tok/s, fusion", "reference-latency-simt",
     3.25, 190.0, true, MemoryModel::Reference},
};

MsqProblem makeProblem(const Instance &instance) {
  MsqProblem problem = llamaProblem();
  problem.palette = unwrap(parsePalette(instance.palette));
  problem.latency = rtx4090Table();
  problem.memoryModel = instance.memory;
  problem.maxBitsPerWeight = instance.bits;
  problem.minTokensPerSecond = instance.tokensPerSecond;
  if (instance.fusion)
    problem.allowAllFusion();
  return problem;
}

/// Every instance is solved to a proven gap below 0.1% within the budgets,
/// and CBC's independent result brackets it: bound <= optimum <= incumbent.
TEST(MsqLlama, SolvesReferenceInstances) {
  for (const Instance &instance : kInstances) {
    MsqProblem problem = makeProblem(instance);
    // The default method proves every instance optimal, the memory +
    // latency one included (two multipliers); CBC at 0.1% brackets it.
    SolveOptions options;
    options.relativeGap = 1e-3;
    Plan plan = unwrap(solveMsq(problem, options));
    EXPECT_EQ(plan.status, SolveStatus::Optimal) << instance.name;
    EXPECT_EQ(plan.solver, "lagrangian-dp") << instance.name;
    EXPECT_LT(plan.gap, 1e-9) << instance.name;
    if (instance.bits)
      EXPECT_LE(plan.memory.avgBits(instance.memory), *instance.bits)
          << instance.name;
    if (instance.tokensPerSecond)
      EXPECT_GE(*plan.tokensPerSecond(), *instance.tokensPerSecond * 0.999999)
          << instance.name;

    SolveOptions cbc;
    cbc.solver = MsqSolver::Cbc;
    cbc.relativeGap = 1e-3;
    Plan mip = unwrap(solveMsq(problem, cbc));
    EXPECT_LT(mip.gap, 1e-3) << instance.name;
    EXPECT_LE(mip.bound, plan.objective * (1 + 1e-9)) << instance.name;
    EXPECT_LE(plan.objective, mip.objective * (1 + 1e-9)) << instance.name;
  }
}

/// MSQ beats the uniform tcomb_6_7 configuration at its own budget, and the
/// ideal Gaussian quantizers beat MSQ.
TEST(MsqLlama, BeatsUniformAndTrailsIdeal) {
  MsqProblem problem = makeProblem(kInstances[0]);
  Plan plan = unwrap(solveMsq(problem));
  PlanCosts uniform = unwrap(evaluatePlan(
      problem, uniformPlan(problem.model, QuantizerSpec::tcqSplit(6, 7))));
  EXPECT_LT(plan.objective, 0.6 * uniform.objective);
  ASSERT_TRUE(plan.informationTheoreticObjective);
  EXPECT_LT(*plan.informationTheoreticObjective, plan.objective);
}

/// Prints the table of bench/results/msq-llama31-8b.md: each instance by the
/// default method, by CBC alone (gap target 0.01%, 60 s wall clock), and by
/// CBC with a 0.1% target where 0.01% was not reached.
TEST(MsqLlama, DISABLED_Table) {
  std::string table =
      "| problem | palette | solver (gap target) | binaries (after pruning) | "
      "objective | bound | gap | avg bits (ref / full) | predicted tok/s | "
      "solve s | nodes | status |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  auto addRow = [&](const Instance &instance, const MsqProblem &problem,
                    const Plan &plan, double target) {
    table += llvm::formatv(
                 "| {0} | {1} ({2}) | {3} ({4}%) | {5} ({6}) | {7:e6} | "
                 "{8:e6} | {9:f4}% | {10:f4} / {11:f4} | {12:f1} | {13:f2} | "
                 "{14} | {15} |\n",
                 instance.name, instance.palette, problem.palette.size(),
                 plan.solver, target * 100, plan.variables,
                 plan.variablesAfterPruning, plan.objective, plan.bound,
                 plan.gap * 100, plan.memory.avgBits(MemoryModel::Reference),
                 plan.memory.avgBits(MemoryModel::Full),
                 plan.tokensPerSecond().value_or(0), plan.solveSeconds,
                 plan.nodes, stringifySolveStatus(plan.status))
                 .str();
  };
  for (const Instance &instance : kInstances) {
    MsqProblem problem = makeProblem(instance);
    SolveOptions options;
    Plan plan = unwrap(solveMsq(problem, options));
    printSummary(plan, llvm::outs());
    llvm::outs() << "\n";
    addRow(instance, problem, plan, options.relativeGap);
    if (plan.solver == "cbc")
      continue;
    options.solver = MsqSolver::Cbc;
    Plan mip = unwrap(solveMsq(problem, options));
    addRow(instance, problem, mip, options.relativeGap);
    if (mip.status == SolveStatus::Optimal)
      continue;
    options.relativeGap = 1e-3;
    addRow(instance, problem, unwrap(solveMsq(problem, options)),
           options.relativeGap);
  }
  llvm::outs() << table;

  // The released solver prices SIMT kernels with the TC entries: its plan
  // for 200 tokens/s, fused, measured with the right entries.
  MsqProblem buggy = makeProblem(kInstances[5]);
  auto table4090 = unwrap(
      loadLatencyTable(referenceData("llama31_8b_latency_rtx4090.json")));
  table4090->setPriceSimtAsTensorCore(true);
  buggy.latency = std::move(table4090);
  Plan plan = unwrap(solveMsq(buggy));
  double actual = unwrap(predictSecondsPerToken(plan, *rtx4090Table()));
  llvm::outs() << llvm::formatv(
      "\nSIMT priced as TC (released solver): objective {0:e6}, planned "
      "{1:f1} tok/s, {2:f1} tok/s with the SIMT entries\n",
      plan.objective, *plan.tokensPerSecond(), 1.0 / actual);
  llvm::outs().flush();
}

/// Prints the two-budget table of bench/results/msq-llama31-8b.md: memory
/// and latency together on a grid (fusion, full memory model), each by the
/// default method (the exact Lagrangian DP with two multipliers), and the
/// grid's diagonal also by CBC (gap target 0.01%, 60 s wall clock).
TEST(MsqLlama, DISABLED_TwoBudgets) {
  const double bits[] = {2.5, 3.0, 3.25, 3.5, 4.0};
  const double tokensPerSecond[] = {160, 175, 190, 200, 210};
  std::string table =
      "| bits | tok/s | solver | objective | bound | gap | avg bits (full) | "
      "predicted tok/s | solve s | DP states | status |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n";
  double slowest = 0;
  unsigned solved = 0, infeasible = 0;
  for (unsigned i = 0; i < 5; ++i)
    for (unsigned j = 0; j < 5; ++j) {
      Instance instance{"",      "reference-latency-simt",
                        bits[i], tokensPerSecond[j],
                        true,    MemoryModel::Full};
      MsqProblem problem = makeProblem(instance);
      for (MsqSolver solver : {MsqSolver::Auto, MsqSolver::Cbc}) {
        if (solver == MsqSolver::Cbc && i != j)
          continue;
        SolveOptions options;
        options.solver = solver;
        llvm::Expected<Plan> plan = solveMsq(problem, options);
        if (!plan) {
          table += llvm::formatv("| {0} | {1} | {2} | infeasible: {3} |\n",
                                 bits[i], tokensPerSecond[j],
                                 solver == MsqSolver::Cbc ? "cbc" : "auto",
                                 llvm::toString(plan.takeError()))
                       .str();
          infeasible += solver == MsqSolver::Auto;
          continue;
        }
        std::string states;
        for (const std::string &note : plan->notes)
          if (llvm::StringRef(note).contains("DP states"))
            states = llvm::StringRef(note).rsplit("; ").second.str();
        table += llvm::formatv(
                     "| {0} | {1} | {2} | {3:e6} | {4:e6} | {5:f4}% | {6:f4} "
                     "| {7:f1} | {8:f2} | {9} | {10} |\n",
                     bits[i], tokensPerSecond[j], plan->solver, plan->objective,
                     plan->bound, plan->gap * 100,
                     plan->memory.avgBits(MemoryModel::Full),
                     plan->tokensPerSecond().value_or(0), plan->solveSeconds,
                     states, stringifySolveStatus(plan->status))
                     .str();
        if (solver == MsqSolver::Auto) {
          EXPECT_EQ(plan->solver, "lagrangian-dp");
          if (plan->solver == "lagrangian-dp") {
            slowest = std::max(slowest, plan->solveSeconds);
            ++solved;
          }
        }
      }
    }
  llvm::outs() << table
               << llvm::formatv("\n{0} instances proven optimal by the "
                                "Lagrangian DP (slowest {1:f2} s), {2} "
                                "infeasible\n",
                                solved, slowest, infeasible);
  llvm::outs().flush();
}

} // namespace
