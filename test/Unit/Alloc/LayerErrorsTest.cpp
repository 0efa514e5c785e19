//===- LayerErrorsTest.cpp - Per-layer errors: file, measured, modelled ---===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "AllocTestUtils.h"

#include "qpal/Alloc/LayerErrors.h"

#include <cmath>
#include <string>

using namespace qpal;
using namespace qpal::alloc;
using namespace qpal::alloc::test;

namespace {

QuantizerSpec spec(llvm::StringRef name) {
  return unwrap(QuantizerSpec::parse(name));
}

/// A `qpal layer-errors` file of `blocks` blocks: every layer of each
/// quantizer gets `value(quantizer index, block, projection index)`.
std::string layerErrorsJson(llvm::ArrayRef<std::string> quantizers,
                            unsigned blocks,
                            double (*value)(unsigned, unsigned, unsigned)) {
  llvm::json::Object layers;
  for (unsigned q = 0; q < quantizers.size(); ++q) {
    llvm::json::Object perLayer;
    for (unsigned block = 0; block < blocks; ++block)
      for (Projection projection : kAllProjections)
        perLayer[layerKey(block, projection)] = llvm::json::Object{
            {"error", value(q, block, static_cast<unsigned>(projection))}};
    layers[quantizers[q]] = std::move(perLayer);
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(llvm::json::Object{{"layers", std::move(layers)}});
  return text;
}

double rising(unsigned q, unsigned block, unsigned projection) {
  // Errors below the Gaussian ones (LDLQ's gain), different per layer.
  return (q == 0 ? 0.1 : 0.02) * (1 + 0.1 * block + 0.01 * projection);
}

/// Measured quantizers give their values; the rest are the Gaussian error
/// scaled by the measured ratio, interpolated geometrically over bits per
/// weight within the class (trellis codes together), held beyond the
/// measured rates; data-free quantizers of an unmeasured class keep the
/// Gaussian error.
TEST(LayerErrors, MeasuredAndModelled) {
  auto model = unwrap(LayerErrorModel::fromJson(
      parseJson(
          layerErrorsJson({"tcq_4_hess_0.9", "tcq_8_hess_0.9"}, 2, rising)),
      "errors.json"));
  DistortionTable gaussian = DistortionTable::expected();
  ASSERT_EQ(model.numBlocks(), 2u);
  ASSERT_EQ(model.measured().size(), 2u);

  // Measured: exactly the file's values.
  EXPECT_DOUBLE_EQ(
      unwrap(model.error(spec("tcq_4_hess_0.9"), 1, Projection::Up, gaussian)),
      0.1 * (1 + 0.1 + 0.05));
  EXPECT_EQ(model.sourceOf(spec("tcq_8_hess_0.9")),
            LayerErrorModel::Source::Measured);

  // Ratios to the Gaussian errors of the two measured rates (2 and 4 bits).
  for (unsigned block = 0; block < 2; ++block)
    for (Projection projection : kAllProjections) {
      unsigned p = static_cast<unsigned>(projection);
      double rho2 =
          rising(0, block, p) / spec("tcq_4_hess_0.9").expectedDistortion();
      double rho4 =
          rising(1, block, p) / spec("tcq_8_hess_0.9").expectedDistortion();
      auto expect = [&](const char *name, double rho) {
        QuantizerSpec quantizer = spec(name);
        EXPECT_NEAR(unwrap(model.error(quantizer, block, projection, gaussian)),
                    quantizer.expectedDistortion() * rho,
                    1e-12 * quantizer.expectedDistortion())
            << name << " in " << layerKey(block, projection);
      };
      // 3 bits: halfway, the geometric mean of the ratios.
      expect("tcq_6_hess_0.9", std::sqrt(rho2 * rho4));
      // tcomb 6/7 (3.25 bits): 5/8 of the way.
      expect("tcomb_6_7_0.5_hess_0.9",
             std::pow(rho2, 0.375) * std::pow(rho4, 0.625));
      // Below and above the measured rates: the nearest ratio.
      expect("tcq_3_hess_0.9", rho2);
      expect("tcq_10_hess_0.9", rho4);
    }
  EXPECT_EQ(model.sourceOf(spec("tcomb_6_7_0.5_hess_0.9")),
            LayerErrorModel::Source::Modeled);

  // Data-free quantizers of an unmeasured class: the Gaussian error.
  EXPECT_DOUBLE_EQ(
      unwrap(model.error(spec("tcq_6_none_0.9"), 0, Projection::Q, gaussian)),
      spec("tcq_6_none_0.9").expectedDistortion());
  EXPECT_EQ(model.sourceOf(spec("ldlq_1_4_none_1.0")),
            LayerErrorModel::Source::Gaussian);
  // A hess quantizer of an unmeasured class cannot be priced.
  EXPECT_EQ(errorOf(model.error(spec("ldlq_2_6_hess_1.0"), 0, Projection::Q,
                                gaussian)),
            "layer errors 'errors.json' measure no quantizer that rounds as "
            "'ldlq_2_6_hess_1.0' does (the same family, or any trellis code, "
            "with Hessian-aware rounding): measure one with `qpal "
            "layer-errors --quantizer`");
}

/// The error does not depend on the kernel: a SIMT name reads the
/// tensor-core entry and the reverse.
TEST(LayerErrors, KernelKindsShareAnEntry) {
  LayerErrorModel model(1, "set");
  for (Projection projection : kAllProjections)
    model.set(spec("ldlq_1_3_hess_1.0:simt"), 0, projection, 0.25);
  DistortionTable gaussian = DistortionTable::expected();
  EXPECT_DOUBLE_EQ(unwrap(model.error(spec("ldlq_1_3_hess_1.0"), 0,
                                      Projection::Down, gaussian)),
                   0.25);
  // Another SQ rate is modelled from it: the same ratio.
  QuantizerSpec four = spec("ldlq_1_4_hess_1.0:simt");
  EXPECT_NEAR(unwrap(model.error(four, 0, Projection::O, gaussian)),
              four.expectedDistortion() * 0.25 /
                  spec("ldlq_1_3_hess_1.0").expectedDistortion(),
              1e-15);
}

/// A layer the quantizer cannot store is listed as such; asking for its
/// error names it.
TEST(LayerErrors, UnstorableLayers) {
  std::string text = layerErrorsJson({"ldlq_1_3_hess_1.0:simt"}, 1, rising);
  std::string key = R"("0_mlp.down_proj":{"error":)";
  size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  size_t end = text.find('}', at);
  text = text.substr(0, at) +
         R"("0_mlp.down_proj":{"unstorable":"expects K divisible by 32")" +
         text.substr(end);
  auto model = unwrap(LayerErrorModel::fromJson(parseJson(text), "u.json"));
  DistortionTable gaussian = DistortionTable::expected();
  EXPECT_DOUBLE_EQ(unwrap(model.error(spec("ldlq_1_3_hess_1.0"), 0,
                                      Projection::Up, gaussian)),
                   rising(0, 0, 5));
  EXPECT_EQ(errorOf(model.error(spec("ldlq_1_3_hess_1.0"), 0, Projection::Down,
                                gaussian)),
            "layer errors 'u.json' do not measure 'ldlq_1_3_hess_1.0' in "
            "layer '0_mlp.down_proj' (it cannot store the layer)");
  EXPECT_EQ(errorOf(model.error(spec("ldlq_1_4_hess_1.0"), 0, Projection::Down,
                                gaussian)),
            "layer errors 'u.json' do not measure 'ldlq_1_3_hess_1.0' in "
            "layer '0_mlp.down_proj' (it cannot store the layer)");
}

/// Bad files name the file, the quantizer and the layer.
TEST(LayerErrors, RejectsBadFiles) {
  auto parse = [](const std::string &text) {
    return errorOf(LayerErrorModel::fromJson(parseJson(text), "e.json"));
  };
  EXPECT_EQ(parse("{}"), "layer errors 'e.json': expected an object 'layers' "
                         "mapping quantizer names to objects of layer keys "
                         "(as `qpal layer-errors` writes)");
  EXPECT_EQ(parse(R"({"layers": {}})"),
            "layer errors 'e.json' measure no quantizer");
  EXPECT_EQ(parse(R"({"layers": {"tcq_99_hess_0.9": {}}})").substr(0, 25),
            "layer errors 'e.json': qu");
  EXPECT_EQ(parse(R"({"layers": {"f16": {}}})"),
            "layer errors 'e.json': f16 is not quantized and has no error");
  EXPECT_EQ(parse(R"({"layers": {"tcq_6_hess_0.9": {}}})"),
            "layer errors 'e.json': quantizer 'tcq_6_hess_0.9' measures no "
            "layer");
  EXPECT_EQ(
      parse(R"({"layers": {"tcq_6_hess_0.9": {"0_self_attn.q_proj": 1}}})"),
      "layer errors 'e.json', quantizer 'tcq_6_hess_0.9', layer "
      "'0_self_attn.q_proj': expected an object with a finite non-negative "
      "number 'error' (or 'unstorable')");
  EXPECT_EQ(parse(R"({"layers": {"tcq_6_hess_0.9": {"0_self_attn.q_proj":
            {"error": -1}}}})"),
            "layer errors 'e.json', quantizer 'tcq_6_hess_0.9', layer "
            "'0_self_attn.q_proj': expected an object with a finite "
            "non-negative number 'error' (or 'unstorable')");
  // A missing layer: named, even when a hostile block number would size
  // the table.
  EXPECT_EQ(parse(R"({"layers": {"tcq_6_hess_0.9": {"0_self_attn.q_proj":
            {"error": 0.1}}}})"),
            "layer errors 'e.json': quantizer 'tcq_6_hess_0.9' lacks layer "
            "'0_self_attn.k_proj' (every quantizer must measure q, k, v, o, "
            "gate, up and down of blocks 0..0)");
  EXPECT_EQ(parse(R"({"layers": {"tcq_6_hess_0.9": {"999999999_mlp.up_proj":
            {"error": 0.1}}}})"),
            "layer errors 'e.json': quantizer 'tcq_6_hess_0.9' lacks layer "
            "'0_self_attn.q_proj' (every quantizer must measure q, k, v, o, "
            "gate, up and down of blocks 0..999999999)");
  // Quantizers that cover different blocks.
  std::string one = layerErrorsJson({"tcq_6_hess_0.9"}, 1, rising);
  std::string two = layerErrorsJson({"tcq_8_hess_0.9"}, 2, rising);
  std::string merged = one.substr(0, one.size() - 2) + "," +
                       two.substr(std::string(R"({"layers":{)").size());
  EXPECT_EQ(parse(merged),
            "layer errors 'e.json': quantizer 'tcq_8_hess_0.9' measures block "
            "1, but 'tcq_6_hess_0.9' measures blocks 0..0 only");
  // One quantizer twice (the kernel does not make another).
  std::string twice = layerErrorsJson({"ldlq_1_3_hess_1.0"}, 1, rising);
  std::string simt = layerErrorsJson({"ldlq_1_3_hess_1.0:simt"}, 1, rising);
  EXPECT_EQ(parse(twice.substr(0, twice.size() - 2) + "," +
                  simt.substr(std::string(R"({"layers":{)").size())),
            "layer errors 'e.json': quantizer 'ldlq_1_3_hess_1.0:simt' "
            "appears twice");
}

} // namespace
