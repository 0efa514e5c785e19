//===- QuantizerSpecTest.cpp - Quantizer names and arithmetic -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Quant/QuantizerFamily.h"

#include "gtest/gtest.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

using namespace qpal;

namespace {

/// Every family of Families.def has a descriptor of its own, and each of
/// its members (every rate, each layout, both roundings) names itself in a
/// way `parse` reads back, passes `verify`, and has self-consistent rates,
/// bytes and distortions: a new family is covered without editing this
/// test.
TEST(QuantizerFamilies, EveryMemberIsConsistent) {
  std::set<std::string> mnemonics;
  for (const QuantizerFamilyInfo *family : quantizerFamilies()) {
    SCOPED_TRACE(family->mnemonic().str());
    EXPECT_EQ(&getQuantizerFamilyInfo(family->family()), family);
    EXPECT_EQ(family->mnemonic(), stringifyQuantizerFamily(family->family()));
    EXPECT_TRUE(mnemonics.insert(family->mnemonic().str()).second);
    std::vector<QuantizerSpec> members = family->members();
    ASSERT_FALSE(members.empty());
    for (QuantizerSpec spec : members) {
      for (bool hessian : {false, true}) {
        if (hessian && family->codecKind() == CodecKind::Dense)
          continue;
        spec.hessian = hessian;
        std::string name = spec.referenceName();
        SCOPED_TRACE(name);
        EXPECT_EQ(spec.family, family->family());
        EXPECT_EQ(&spec.familyInfo(), family);
        EXPECT_FALSE(static_cast<bool>(spec.verify()));
        auto parsed = QuantizerSpec::parse(name);
        ASSERT_TRUE(static_cast<bool>(parsed))
            << llvm::toString(parsed.takeError());
        EXPECT_EQ(*parsed, spec);
        if (spec.kernel == KernelKind::Simt)
          EXPECT_TRUE(spec.hasSimtLayout());
        // Bytes: exactly bitsPerWeight per weight on a packable shape.
        int64_t rows = 64, cols = 4 * spec.requiredColMultiple();
        EXPECT_FALSE(spec.checkShape(rows, cols).has_value());
        EXPECT_DOUBLE_EQ(static_cast<double>(spec.codeBytes(rows, cols)),
                         spec.bitsPerWeight() * rows * cols / 8);
        EXPECT_EQ(spec.storageBytes(rows, cols), spec.codeBytes(rows, cols) +
                                                     spec.codebookBytes() +
                                                     spec.scaleBytes(rows));
        double distortion = spec.expectedDistortion();
        EXPECT_GT(distortion, 0.0);
        EXPECT_LT(distortion, 1.0);
        if (family->codecKind() != CodecKind::Dense) {
          // A pair table is built from a codebook; a codebook-free member
          // (a computed trellis code) has neither.
          if (spec.codebookBytes() == 0)
            EXPECT_EQ(spec.packedPairEntries(), 0u);
          EXPECT_EQ(spec.simtChunkColumns() != 0,
                    spec.kernel == KernelKind::Simt);
        }
      }
    }
    // More bits, less distortion, within a layout.
    for (size_t i = 1; i < members.size(); ++i)
      if (members[i].kernel == members[i - 1].kernel &&
          members[i].bitsPerWeight() > members[i - 1].bitsPerWeight())
        EXPECT_LT(members[i].expectedDistortion(),
                  members[i - 1].expectedDistortion())
            << members[i].referenceName();
  }
}

/// Every reference string parses to one spec whose name is the same string.
/// A descriptor a plug-in could register: parses nothing, one member.
class TestPluginFamily final : public QuantizerFamilyInfo {
public:
  TestPluginFamily(unsigned value, llvm::StringRef mnemonic)
      : QuantizerFamilyInfo(static_cast<QuantizerFamily>(value), mnemonic) {}
  CodecKind codecKind() const override { return CodecKind::Lut; }
  llvm::StringRef namePrefix() const override { return mnemonic(); }
  std::optional<llvm::Expected<QuantizerSpec>>
  parse(const QuantizerName &) const override {
    return std::nullopt;
  }
  std::string referenceName(const QuantizerSpec &) const override {
    return mnemonic().str();
  }
  llvm::Error verify(const QuantizerSpec &) const override {
    return llvm::Error::success();
  }
  std::pair<uint64_t, uint64_t>
  bitsPerWeightFraction(const QuantizerSpec &) const override {
    return {4, 1};
  }
  unsigned vectorDim(const QuantizerSpec &) const override { return 1; }
  uint64_t codebookBytes(const QuantizerSpec &) const override { return 32; }
  KernelFamily kernelFamily(const QuantizerSpec &) const override {
    return KernelFamily::SqTensorCore;
  }
  double expectedDistortion(const QuantizerSpec &) const override {
    return 0.01;
  }
  std::vector<QuantizerSpec> members() const override {
    return {QuantizerSpec::lut(family(), 4)};
  }
};

/// A plug-in family must take a value of its own from kFirstPluginFamily
/// on and a mnemonic of its own; a refused one leaves the registry as it
/// was. (A registration that succeeds is permanent in the process: the
/// out-of-tree example, test/Examples, registers one and runs it end to
/// end.)
TEST(QuantizerFamilies, PluginRegistrationRefusesClashes) {
  size_t before = quantizerFamilies().size();
  auto message = [](llvm::Error err) {
    return err ? llvm::toString(std::move(err)) : std::string("success");
  };
  TestPluginFamily reserved(7, "mine");
  EXPECT_EQ(message(registerQuantizerFamily(reserved)),
            "quantizer family 'mine': value 7 is reserved for qpal's own "
            "families; a plug-in takes a value from 128 to 255");
  TestPluginFamily builtinValue(static_cast<unsigned>(QuantizerFamily::Tcq),
                                "mine");
  EXPECT_EQ(message(registerQuantizerFamily(builtinValue)),
            "quantizer family 'mine': value 1 is reserved for qpal's own "
            "families; a plug-in takes a value from 128 to 255");
  TestPluginFamily takenMnemonic(200, "tcq");
  EXPECT_EQ(message(registerQuantizerFamily(takenMnemonic)),
            "quantizer family 'tcq': the mnemonic is already family 1's");
  TestPluginFamily noMnemonic(201, "");
  EXPECT_EQ(message(registerQuantizerFamily(noMnemonic)),
            "quantizer family 201 has no mnemonic");
  EXPECT_EQ(quantizerFamilies().size(), before);
  // A name no family parses still lists the built-in prefixes only.
  auto spec = QuantizerSpec::parse("mine_4");
  ASSERT_FALSE(spec);
  EXPECT_EQ(llvm::toString(spec.takeError()),
            "unknown quantizer 'mine_4': expected 'f16' or a name starting "
            "with 'tcq_', 'tcomb_' or 'ldlq_'");
}

TEST(QuantizerSpec, ReferenceNamesRoundTrip) {
  std::set<std::string> names;
  for (const QuantizerSpec &spec : referencePalette()) {
    std::string name = spec.referenceName();
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    auto parsed = QuantizerSpec::parse(name);
    ASSERT_TRUE(static_cast<bool>(parsed))
        << llvm::toString(parsed.takeError());
    EXPECT_EQ(*parsed, spec) << name;
    EXPECT_EQ(parsed->referenceName(), name);
  }
  EXPECT_EQ(names.size(), 34u);
}

/// The names and rates are the reference's (quantizers.md, section 1).
TEST(QuantizerSpec, ReferenceRates) {
  struct Case {
    const char *name;
    double bits;
    unsigned tlut;
  } cases[] = {{"tcq_2_none_0.9", 1.0, 9},
               {"tcq_8_none_0.9", 4.0, 9},
               {"tcq_9_none_0.9", 4.5, 10},
               {"tcq_10_none_0.9", 5.0, 11},
               {"tcomb_6_7_0.5_none_0.9", 3.25, 9},
               {"tcomb_8_9_0.5_none_0.9", 4.25, 10},
               {"tcomb_9_10_0.5_none_0.9", 4.75, 11},
               {"ldlq_2_9_none_1.0", 4.5, 0},
               {"ldlq_1_2_none_1.0", 2.0, 0}};
  for (const Case &c : cases) {
    auto spec = QuantizerSpec::parse(c.name);
    ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
    EXPECT_DOUBLE_EQ(spec->bitsPerWeight(), c.bits) << c.name;
    EXPECT_EQ(spec->tlutBits, c.tlut) << c.name;
  }
}

/// Bytes follow the reference memory model plus the per-row scales.
TEST(QuantizerSpec, StorageBytes) {
  QuantizerSpec tcq6 = QuantizerSpec::tcq(6);
  EXPECT_EQ(tcq6.codeBytes(4096, 4096), 4096ull * 4096 * 6 / 16);
  EXPECT_EQ(tcq6.codebookBytes(), 512ull * 2 * 2);
  EXPECT_EQ(tcq6.storageBytes(4096, 4096),
            4096ull * 4096 * 6 / 16 + 2048 + 4096 * 2);
  QuantizerSpec tcomb = QuantizerSpec::tcqSplit(6, 7);
  EXPECT_EQ(tcomb.codeBytes(4096, 4096), 4096ull * 4096 * 13 / 32);
  QuantizerSpec vq12 = QuantizerSpec::vq(12);
  EXPECT_EQ(vq12.codebookBytes(), 4096ull * 2 * 2);
  EXPECT_EQ(QuantizerSpec::sq(4).codeBytes(32, 32), 32ull * 32 * 4 / 8);
  EXPECT_EQ(QuantizerSpec::f16().storageBytes(3, 5), 30u);
}

/// The distortion table is the reference's JSON, value for value.
TEST(QuantizerSpec, DistortionMatchesReferenceJson) {
  const char *shared = std::getenv("QPAL_SHARED_DIR");
  if (!shared)
    shared = QPAL_SHARED_DIR_DEFAULT;
  std::ifstream in(std::string(shared) +
                   "/reference/data/quantizer_distortion.json");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  std::string json = text.str();
  for (const QuantizerSpec &spec : referencePalette()) {
    std::string key = "\"" + spec.referenceName() + "\": ";
    size_t pos = json.find(key);
    ASSERT_NE(pos, std::string::npos) << key;
    double value = std::strtod(json.c_str() + pos + key.size(), nullptr);
    EXPECT_DOUBLE_EQ(spec.expectedDistortion(), value) << key;
  }
}

TEST(QuantizerSpec, Extensions) {
  auto t9 = QuantizerSpec::parse("tcq_9_t9_none_0.9");
  ASSERT_TRUE(static_cast<bool>(t9)) << llvm::toString(t9.takeError());
  EXPECT_EQ(t9->tlutBits, 9u);
  EXPECT_EQ(t9->referenceName(), "tcq_9_t9_none_0.9");
  auto simt = QuantizerSpec::parse("ldlq_1_4_none_1.0:simt");
  ASSERT_TRUE(static_cast<bool>(simt)) << llvm::toString(simt.takeError());
  EXPECT_EQ(simt->kernelFamily(), KernelFamily::SqSimt);
  EXPECT_EQ(formatReferenceFloat(0.9), "0.9");
  EXPECT_EQ(formatReferenceFloat(1.0), "1.0");
  EXPECT_EQ(formatReferenceFloat(0.875), "0.875");
  // Python's repr: positional for exponents in [-4, 16).
  EXPECT_EQ(formatReferenceFloat(70000.0), "70000.0");
  EXPECT_EQ(formatReferenceFloat(0.0001), "0.0001");
  EXPECT_EQ(formatReferenceFloat(1e-05), "1e-05");
  EXPECT_EQ(formatReferenceFloat(1e16), "1e+16");
  EXPECT_EQ(formatReferenceFloat(0.1), "0.1");
  EXPECT_EQ(formatReferenceFloat(1.5), "1.5");
}

TEST(QuantizerSpec, RejectsBadNames) {
  struct Case {
    const char *name;
    const char *message;
  } cases[] = {
      {"tcq_11_none_0.9", "KV must be in [2, 10], got 11"},
      {"tcq_1_none_0.9", "KV must be in [2, 10], got 1"},
      {"ldlq_1_4_maybe_1.0", "expected 'none' or 'hess'"},
      {"tcq_6_none", "expected the form"},
      {"tcq_x_none_0.9", "expected an integer KV"},
      {"tcq_6_none_-1", "expected a positive scale"},
      {"tcomb_6_7_0.3_none_0.9", "split ratio must be 0.5"},
      {"tcomb_6_6_0.5_none_0.9", "two different rates"},
      {"tcq_6_t12_none_0.9", "codebook bits must be in [9, 11], got 12"},
      {"ldlq_1_9_none_1.0", "SQ index bits must be in [2, 8], got 9"},
      {"ldlq_2_13_none_1.0", "VQ index bits must be in [2, 12], got 13"},
      {"ldlq_4_8_none_1.0", "vector dimension 4 is not supported"},
      {"sq_4_none_1.0", "per-layer k-means"},
      {"comb_6_7_0.5_none_0.9", "row-split"},
      {"tcq_6_none_0.9:simt",
       "tcq has no CUDA-core (simt) layout; only vq and sq have one"},
      {"tcq_6_none_0.9:5inst", "unknown trellis code ':5inst'"},
      {"tcq_6_t10_none_1.2:3inst",
       "the computed code '3inst' reads no codebook"},
      {"ldlq_1_4_none_1.0:3inst", "unknown suffix ':3inst'"},
      {"nuq_4", "unknown quantizer 'nuq_4'"},
      {"", "unknown quantizer ''"},
  };
  for (const Case &c : cases) {
    auto spec = QuantizerSpec::parse(c.name);
    ASSERT_FALSE(static_cast<bool>(spec)) << c.name;
    std::string message = llvm::toString(spec.takeError());
    EXPECT_NE(message.find(c.message), std::string::npos)
        << c.name << ": " << message;
  }
}

TEST(QuantizerSpec, ShapeRules) {
  QuantizerSpec tcq = QuantizerSpec::tcq(6);
  EXPECT_FALSE(tcq.checkShape(576, 576).has_value());
  EXPECT_FALSE(tcq.checkShape(192, 576).has_value());
  EXPECT_EQ(*tcq.checkShape(4100, 4096),
            "expects M divisible by 32 for tcq_6_none_0.9, got 4100");
  EXPECT_EQ(*QuantizerSpec::tcqSplit(6, 7).checkShape(576, 544),
            "expects K divisible by 64 for tcomb_6_7_0.5_none_0.9, got 544");
  EXPECT_FALSE(QuantizerSpec::f16().checkShape(3, 7).has_value());
  EXPECT_TRUE(QuantizerSpec::sq(4).checkShape(0, 64).has_value());
}

} // namespace
