//===- ModelShapeTest.cpp - Layer shapes, keys and fusion groups ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "AllocTestUtils.h"

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::test;

namespace {

/// Llama-3.1-8B's shapes are the reference's LAYER_INFO["3_8b"].
TEST(ModelShape, Llama31Shapes) {
  ModelConfig model = unwrap(ModelConfig::byName("llama-3.1-8b"));
  EXPECT_EQ(model.shape(Projection::Q), (LayerShape{4096, 4096}));
  EXPECT_EQ(model.shape(Projection::K), (LayerShape{1024, 4096}));
  EXPECT_EQ(model.shape(Projection::V), (LayerShape{1024, 4096}));
  EXPECT_EQ(model.shape(Projection::O), (LayerShape{4096, 4096}));
  EXPECT_EQ(model.shape(Projection::Gate), (LayerShape{14336, 4096}));
  EXPECT_EQ(model.shape(Projection::Up), (LayerShape{14336, 4096}));
  EXPECT_EQ(model.shape(Projection::Down), (LayerShape{4096, 14336}));
  EXPECT_EQ(model.shape(FusionGroup::QKV), (LayerShape{6144, 4096}));
  EXPECT_EQ(model.shape(FusionGroup::UG), (LayerShape{28672, 4096}));
  EXPECT_EQ(model.shape(FusionGroup::KV), (LayerShape{2048, 4096}));
  // kernels-and-msq.md section 12: 13,958,643,712 fp16 bytes, and 3328
  // sign bytes per block.
  EXPECT_EQ(model.fp16LinearBytes(), 13958643712ull);
  EXPECT_EQ(model.signBytesPerBlock(), 3328u);
  EXPECT_NE(errorOf(ModelConfig::byName("gpt-2")).find("unknown built-in"),
            std::string::npos);
  ModelConfig bad = model;
  bad.numKvHeads = 5;
  EXPECT_NE(llvm::toString(bad.verify()).find("not a multiple of 5 KV heads"),
            std::string::npos);
}

TEST(ModelShape, LayerKeys) {
  EXPECT_EQ(layerKey(0, Projection::Q), "0_self_attn.q_proj");
  EXPECT_EQ(layerKey(31, Projection::Down), "31_mlp.down_proj");
  for (unsigned block : {0u, 7u, 31u})
    for (Projection projection : kAllProjections) {
      auto parsed = unwrap(parseLayerKey(layerKey(block, projection)));
      EXPECT_EQ(parsed.first, block);
      EXPECT_EQ(parsed.second, projection);
    }
  EXPECT_NE(errorOf(parseLayerKey("x_self_attn.q_proj")).find("expected"),
            std::string::npos);
  EXPECT_NE(errorOf(parseLayerKey("3_mlp.fc1")).find("unknown projection"),
            std::string::npos);
}

/// Every partition of a block is an exact cover, and the group names are
/// the latency table's.
TEST(ModelShape, FusionGroups) {
  for (FusionGroup group : kAllFusionGroups) {
    auto parsed = unwrap(parseFusionGroup(fusionGroupName(group)));
    EXPECT_EQ(parsed, group);
  }
  EXPECT_EQ(unwrap(parseFusionGroup("merge_qkv")), FusionGroup::QKV);
  EXPECT_NE(errorOf(parseFusionGroup("qo")).find("unknown fusion group"),
            std::string::npos);
  EXPECT_EQ(fusionGroupName(FusionGroup::Up), "u");
  EXPECT_EQ(fusionGroupName(FusionGroup::Gate), "g");
  EXPECT_EQ(fusionGroupMembers(FusionGroup::UG).front(), Projection::Up);
  EXPECT_TRUE(groupContains(FusionGroup::QV, Projection::V));
  EXPECT_FALSE(groupContains(FusionGroup::QV, Projection::K));
  unsigned fused = 0;
  for (FusionGroup group : kAllFusionGroups)
    fused += isFusedGroup(group);
  EXPECT_EQ(fused, kFusedGroups.size());
}

} // namespace
