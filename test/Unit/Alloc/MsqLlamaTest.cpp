//===- MsqLlamaTest.cpp - MSQ on the reference's Llama-3.1-8B tables ------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
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
    {"memory 3.25 bits (reference memory model)", "reference-memory", 3.25,
     std::nullopt, false, MemoryModel::Reference},
    {"memory 3.25 bits (full memory model)", "reference-memory", 3.25,
     std::nullopt, false, MemoryModel::Full},
    {"latency 190 tok/s, no fusion", "reference-latency-simt", std::nullopt,
     190.0, false, MemoryModel::Full},
    {"latency 190 tok/s, fusion", "reference-latency-simt", std::nullopt,
     190.0, true, MemoryModel::Full},
    {"latency 200 tok/s, no fusion", "reference-latency-simt", std::nullopt,
     200.0, false, MemoryModel::Full},
    {"latency 200 tok/s, fusion", "reference-latency-simt", std::nullopt,
     200.0, true, MemoryModel::Full},
};

TEST(MsqLlama, DISABLED_Table) {
  std::string table =
      "| problem | palette | variables (after pruning) | objective | bound | "
      "gap | avg bits (ref / full) | predicted tok/s | solve s | nodes | "
      "status |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Instance &instance : kInstances) {
    MsqProblem problem = llamaProblem();
    problem.palette = unwrap(parsePalette(instance.palette));
    problem.latency = rtx4090Table();
    problem.memoryModel = instance.memory;
    problem.maxBitsPerWeight = instance.bits;
    problem.minTokensPerSecond = instance.tokensPerSecond;
    if (instance.fusion)
      problem.allowAllFusion();
    SolveOptions options;
    options.solverLogLevel = std::getenv("QPAL_CBC_LOG") ? 1 : 0;
    auto plan = solveMsq(problem, options);
    ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
    printSummary(*plan, llvm::outs());
    llvm::outs() << "\n";
    table += llvm::formatv(
                 "| {0} | {1} ({2}) | {3} ({4}) | {5:e5} | {6:e5} | {7:f4}% | "
                 "{8:f4} / {9:f4} | {10:f1} | {11:f2} | {12} | {13} |\n",
                 instance.name, instance.palette, problem.palette.size(),
                 plan->variables, plan->variablesAfterPruning, plan->objective,
                 plan->bound, plan->gap * 100,
                 plan->memory.avgBits(MemoryModel::Reference),
                 plan->memory.avgBits(MemoryModel::Full),
                 plan->tokensPerSecond().value_or(0), plan->solveSeconds,
                 plan->nodes, stringifySolveStatus(plan->status))
                 .str();
    EXPECT_LT(plan->gap, 1e-3);
  }
  llvm::outs() << table;
}

} // namespace
