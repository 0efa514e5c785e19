//===- InputsTest.cpp - Sensitivities, distortions and palettes -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "AllocTestUtils.h"

#include <cmath>

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::test;

namespace {

/// The reference's coefficients: 224 layers, values of kernels-and-msq.md
/// section 11.
TEST(Inputs, LoadsReferenceSensitivities) {
  Sensitivities a =
      unwrap(loadSensitivities(referenceData("llama31_8b_sensitivity.json")));
  ASSERT_EQ(a.numBlocks(), 32u);
  EXPECT_NEAR(a.at(1, Projection::Down), 2.097, 5e-4);
  EXPECT_NEAR(a.at(0, Projection::Q), 5.7015131e-4, 1e-10);
  EXPECT_NEAR(a.at(31, Projection::Down), 0.325, 5e-4);
  double sum = 0;
  for (unsigned block = 0; block < 32; ++block)
    for (Projection projection : kAllProjections)
      sum += a.at(block, projection);
  EXPECT_NEAR(sum, 8.19, 0.005);
  EXPECT_DOUBLE_EQ(a.groupSum(3, FusionGroup::QKV), a.at(3, Projection::Q) +
                                                        a.at(3, Projection::K) +
                                                        a.at(3, Projection::V));
}

/// Bad sensitivity files name the layer and the rule.
TEST(Inputs, RejectsBadSensitivities) {
  auto parse = [](const char *text) {
    return parseSensitivities(parseJson(text));
  };
  EXPECT_NE(errorOf(parse(R"({"coefficients": {"0_self_attn.q_proj": 1}})"))
                .find("missing layer '0_self_attn.k_proj'"),
            std::string::npos);
  std::string full;
  for (Projection projection : kAllProjections)
    full += "\"" + layerKey(0, projection) + "\": 0.5, ";
  std::string negative =
      "{\"coefficients\": {" + full + "\"0_mlp.down_proj\": -1}}";
  EXPECT_NE(errorOf(parse(negative.c_str()))
                .find("sensitivity of layer '0_mlp.down_proj' must be in [0, "
                      "1e30], got -1"),
            std::string::npos);
  EXPECT_NE(errorOf(parse(R"({"coefficients": {"0_mlp.fc": 1}})"))
                .find("unknown projection"),
            std::string::npos);
  EXPECT_NE(errorOf(parse(R"({"coefficients": {"0_mlp.up_proj": "x"}})"))
                .find("must map to a number"),
            std::string::npos);
  EXPECT_NE(errorOf(parse(R"({"a": 1})")).find("'coefficients'"),
            std::string::npos);
  Sensitivities nan = Sensitivities::uniform(2);
  nan.coefficients[1][2] = std::nan("");
  EXPECT_NE(llvm::toString(nan.verify())
                .find("sensitivity of layer '1_self_attn.v_proj'"),
            std::string::npos);
  EXPECT_NE(errorOf(loadSensitivities("/nonexistent/a.json"))
                .find("cannot read '/nonexistent/a.json'"),
            std::string::npos);
}

/// The JSON table and QuantizerSpec's built-in copy agree.
TEST(Inputs, DistortionTable) {
  DistortionTable table =
      unwrap(loadDistortionTable(referenceData("quantizer_distortion.json")));
  DistortionTable expected = DistortionTable::expected();
  for (const QuantizerSpec &quantizer : referencePalette())
    EXPECT_DOUBLE_EQ(unwrap(table.lookup(quantizer)),
                     unwrap(expected.lookup(quantizer)))
        << quantizer.referenceName();
  // The kernel kind does not change the error.
  EXPECT_DOUBLE_EQ(
      unwrap(table.lookup(QuantizerSpec::vq(6, 1.0, KernelKind::Simt))),
      0.02971748153358084);
  EXPECT_NE(errorOf(table.lookup(QuantizerSpec::tcq(6, 10)))
                .find("no distortion for quantizer 'tcq_6_t10_none_0.9'"),
            std::string::npos);
  auto bad = DistortionTable::fromJson(
      parseJson(R"({"normalized_mse": {"nuq_4": 0.1}})"), "test");
  EXPECT_NE(errorOf(std::move(bad)).find("unknown quantizer 'nuq_4'"),
            std::string::npos);
}

TEST(Inputs, Palettes) {
  EXPECT_EQ(unwrap(parsePalette("reference-memory")).size(), 15u);
  EXPECT_EQ(unwrap(parsePalette("reference-latency")).size(), 32u);
  auto simt = unwrap(parsePalette("reference-latency-simt"));
  EXPECT_EQ(simt.size(), 49u);
  EXPECT_EQ(llvm::count_if(simt,
                           [](const QuantizerSpec &quantizer) {
                             return quantizer.kernel == KernelKind::Simt;
                           }),
            17);
  EXPECT_EQ(unwrap(parsePalette("full")).size(), 34u);
  auto list = unwrap(
      parsePalette("tcq_6_none_0.9, ldlq_2_6_none_1.0:simt,tcq_6_none_0.9"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].kernel, KernelKind::Simt);
  EXPECT_NE(errorOf(parsePalette("tcq_6_none_0.9,foo"))
                .find("unknown quantizer 'foo'"),
            std::string::npos);
  EXPECT_NE(errorOf(parsePalette(" ")).find("empty palette"),
            std::string::npos);
  // `-hess`: the same quantizers, each rounded with LDLQ.
  auto memory = unwrap(parsePalette("reference-memory"));
  auto hess = unwrap(parsePalette("reference-memory-hess"));
  ASSERT_EQ(hess.size(), memory.size());
  for (size_t i = 0; i < hess.size(); ++i) {
    EXPECT_TRUE(hess[i].hessian);
    QuantizerSpec twin = hess[i];
    twin.hessian = false;
    EXPECT_EQ(twin, memory[i]);
  }
  EXPECT_EQ(hess[2].referenceName(), "tcq_5_hess_0.9");
  EXPECT_EQ(unwrap(parsePalette("reference-latency-simt-hess")).size(), 49u);
  EXPECT_EQ(errorOf(parsePalette("tcq_6_none_0.9-hess")),
            "palette 'tcq_6_none_0.9-hess': '-hess' follows a palette name "
            "(reference-memory, reference-latency, reference-latency-simt, "
            "full)");
}

} // namespace
