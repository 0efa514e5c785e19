//===- PlanTest.cpp - Plan JSON and summary -------------------------------===//
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

std::string print(const llvm::json::Value &value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", value);
  return text;
}

/// A solved plan survives JSON unchanged, and its keys are the reference's.
TEST(Plan, JsonRoundTrip) {
  MsqProblem problem = llamaProblem();
  problem.palette = unwrap(parsePalette("reference-latency-simt"));
  problem.latency = rtx4090Table();
  problem.allowAllFusion();
  problem.minTokensPerSecond = 190;
  Plan plan = unwrap(solveMsq(problem));

  llvm::json::Value json = toJson(plan);
  const llvm::json::Object *root = json.getAsObject();
  ASSERT_TRUE(root);
  for (const char *key :
       {"objective", "bound", "gap", "avg_bits", "predicted_tokens_per_second",
        "plan", "fusion", "solve_seconds", "status"})
    EXPECT_TRUE(root->get(key)) << key;
  EXPECT_EQ(*root->getString("status"), "optimal");
  EXPECT_EQ(root->getObject("plan")->size(), 224u);
  EXPECT_TRUE(root->getObject("plan")->getString("0_self_attn.q_proj"));
  EXPECT_TRUE(root->getObject("fusion")->getArray("31"));
  EXPECT_NEAR(*root->getNumber("predicted_tokens_per_second"), 190, 1.0);

  std::string text = print(json);
  Plan reread = unwrap(planFromJson(parseJson(text)));
  ASSERT_EQ(reread.blocks.size(), plan.blocks.size());
  for (unsigned b = 0; b < plan.blocks.size(); ++b) {
    EXPECT_EQ(reread.blocks[b].groups, plan.blocks[b].groups) << b;
    for (Projection projection : kAllProjections)
      EXPECT_EQ(reread.blocks[b].quantizer(projection),
                plan.blocks[b].quantizer(projection));
  }
  EXPECT_EQ(reread.objective, plan.objective);
  EXPECT_EQ(reread.bound, plan.bound);
  EXPECT_EQ(reread.secondsPerToken, plan.secondsPerToken);
  EXPECT_EQ(reread.memory.bytes(MemoryModel::Full),
            plan.memory.bytes(MemoryModel::Full));
  EXPECT_EQ(print(toJson(reread)), text);

  // The costs of the re-read plan are the solver's.
  PlanCosts costs = unwrap(evaluatePlan(problem, reread));
  EXPECT_DOUBLE_EQ(costs.objective, plan.objective);
  EXPECT_DOUBLE_EQ(*costs.secondsPerToken, *plan.secondsPerToken);
}

/// SIMT choices are written with a `:simt` suffix; a reference-style qdict
/// with a model reads back.
TEST(Plan, ReferenceNames) {
  Plan plan = uniformPlan(ModelConfig::llama31_8b(),
                          QuantizerSpec::vq(6, 1.0, KernelKind::Simt),
                          {FusionGroup::KV});
  llvm::json::Value json = toJson(plan);
  const llvm::json::Object *root = json.getAsObject();
  EXPECT_EQ(*root->getObject("plan")->getString("7_mlp.up_proj"),
            "ldlq_2_6_none_1.0:simt");
  EXPECT_EQ(print(*root->get("fusion")).find("\"kv\"") != std::string::npos,
            true);
  auto missing = planFromJson(parseJson(
      R"({"model": {"hidden_size": 64, "intermediate_size": 128,
          "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32,
          "num_hidden_layers": 1}, "plan": {"0_self_attn.q_proj":
          "tcq_6_none_0.9"}})"));
  EXPECT_NE(errorOf(std::move(missing))
                .find("plan: missing layer '0_self_attn.k_proj'"),
            std::string::npos);
}

/// The summary has a row per block, the counts and the bound lines.
TEST(Plan, Summary) {
  MsqProblem problem = llamaProblem();
  problem.palette = unwrap(parsePalette("reference-memory"));
  problem.memoryModel = MemoryModel::Reference;
  problem.maxBitsPerWeight = 3.25;
  Plan plan = unwrap(solveMsq(problem));
  std::string text;
  llvm::raw_string_ostream os(text);
  printSummary(plan, os);
  EXPECT_NE(text.find("  blk      q      k      v      o   gate     up   "
                      "down  fused"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n   31 "), std::string::npos);
  EXPECT_NE(text.find("average bits: 3.2"), std::string::npos);
  EXPECT_NE(text.find("ideal Gaussian quantizers"), std::string::npos);
  EXPECT_NE(text.find("  quantizer                          bits  layers\n"),
            std::string::npos);
  ASSERT_TRUE(plan.informationTheoreticObjective);
  EXPECT_LT(*plan.informationTheoreticObjective, plan.objective);
}

} // namespace
