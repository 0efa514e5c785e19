//===- QuantizerAttrTest.cpp - Quantizer attributes and their specs -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"
#include "qpal/Quant/QuantizerFamily.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir;
using namespace qpal;

namespace {

class QuantizerAttrTest : public ::testing::Test {
protected:
  QuantizerAttrTest() { context.loadDialect<QPalDialect>(); }
  MLIRContext context;
};

/// Every reference quantizer maps to one attribute, whose printed form parses
/// back to the same attribute and whose spec is the one it was built from.
TEST_F(QuantizerAttrTest, PaletteRoundTrips) {
  PaletteAttr palette = getReferencePalette(&context);
  ASSERT_EQ(palette.getQuantizers().size(), 34u);
  for (QuantizerAttrInterface quantizer : palette.getQuantizers()) {
    std::string name = quantizer.getReferenceName();
    llvm::Expected<QuantizerAttrInterface> fromName =
        parseQuantizerName(&context, name);
    ASSERT_TRUE(static_cast<bool>(fromName))
        << llvm::toString(fromName.takeError());
    EXPECT_EQ(*fromName, quantizer) << name;

    std::string text;
    llvm::raw_string_ostream os(text);
    os << quantizer;
    Attribute parsed = parseAttribute(text, &context);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(parsed, quantizer) << text;
    EXPECT_EQ(cast<QuantizerAttrInterface>(parsed).getSpec(),
              quantizer.getSpec());
  }
}

/// Every member of every family (Families.def), in each layout, maps to an
/// attribute of its family's mnemonic that prints, parses back and gives
/// the spec it was built from: a new family is covered without editing
/// this test.
TEST_F(QuantizerAttrTest, EveryFamilyMemberRoundTrips) {
  for (const QuantizerFamilyInfo *family : quantizerFamilies()) {
    std::vector<QuantizerSpec> members = family->members();
    ASSERT_FALSE(members.empty()) << family->mnemonic().str();
    for (QuantizerSpec spec : members) {
      for (bool hessian : {false, true}) {
        if (hessian && family->codecKind() == CodecKind::Dense)
          continue;
        spec.hessian = hessian;
        QuantizerAttrInterface attr = getQuantizerAttr(&context, spec);
        ASSERT_TRUE(attr) << spec.referenceName();
        EXPECT_EQ(attr.getSpec(), spec) << spec.referenceName();
        EXPECT_EQ(attr.getReferenceName(), spec.referenceName());
        std::string text;
        llvm::raw_string_ostream os(text);
        os << attr;
        EXPECT_TRUE(llvm::StringRef(text).starts_with("#qpal." +
                                                      family->mnemonic().str()))
            << text;
        EXPECT_EQ(parseAttribute(text, &context), Attribute(attr)) << text;
        auto fromName = parseQuantizerName(&context, spec.referenceName());
        ASSERT_TRUE(static_cast<bool>(fromName))
            << llvm::toString(fromName.takeError());
        EXPECT_EQ(*fromName, attr);
      }
    }
  }
}

/// The interface methods agree with the spec's arithmetic on real shapes.
TEST_F(QuantizerAttrTest, InterfaceArithmetic) {
  auto tcomb = cantFail(parseQuantizerName(&context, "tcomb_6_7_0.5_none_0.9"));
  EXPECT_TRUE(isa<TcqSplitAttr>(tcomb));
  EXPECT_DOUBLE_EQ(tcomb.getBitsPerWeight(), 3.25);
  // 576 x 1536 at 3.25 bits, a 512-entry fp16 pair codebook, fp16 row scales.
  EXPECT_EQ(tcomb.getStorageBytes(576, 1536),
            576ull * 1536 * 13 / 32 + 512 * 4 + 576 * 2);
  EXPECT_EQ(tcomb.getKernelFamily(), KernelFamily::TcqTensorCore);

  auto sqSimt =
      cantFail(parseQuantizerName(&context, "ldlq_1_4_none_1.0:simt"));
  auto sq = dyn_cast<SqAttr>(sqSimt);
  ASSERT_TRUE(sq);
  EXPECT_EQ(sq.getKernel(), KernelKind::Simt);
  EXPECT_EQ(sqSimt.getKernelFamily(), KernelFamily::SqSimt);

  auto f16 = cantFail(parseQuantizerName(&context, "f16"));
  EXPECT_TRUE(isa<F16Attr>(f16));
  EXPECT_EQ(f16.getStorageBytes(3, 5), 30u);
}

TEST_F(QuantizerAttrTest, BadNamesKeepTheirMessage) {
  llvm::Expected<QuantizerAttrInterface> attr =
      parseQuantizerName(&context, "tcomb_6_7_0.25_none_0.9");
  ASSERT_FALSE(static_cast<bool>(attr));
  EXPECT_NE(llvm::toString(attr.takeError()).find("split ratio must be 0.5"),
            std::string::npos);
}

/// A plug-in family without an attribute builder or dialect loader is
/// refused before lib/Quant sees it: every name of it would parse into a
/// spec no attribute can hold.
TEST_F(QuantizerAttrTest, PluginQuantizerNeedsItsAttribute) {
  const QuantizerFamilyInfo &sq = getQuantizerFamilyInfo(QuantizerFamily::Sq);
  size_t before = quantizerFamilies().size();
  llvm::Error err = registerPluginQuantizer(sq, {nullptr, nullptr});
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_EQ(llvm::toString(std::move(err)),
            "quantizer family 'sq': the plug-in gives no attribute builder "
            "or dialect loader");
  // With both, lib/Quant's checks apply: SQ's value is qpal's own.
  err = registerPluginQuantizer(
      sq, {[](MLIRContext *context, const QuantizerSpec &spec) {
             return getQuantizerAttr(context, spec);
           },
           [](MLIRContext *) {}});
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_EQ(llvm::toString(std::move(err)),
            "quantizer family 'sq': value 4 is reserved for qpal's own "
            "families; a plug-in takes a value from 128 to 255");
  EXPECT_EQ(quantizerFamilies().size(), before);
}

} // namespace
