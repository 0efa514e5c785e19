//===- CodebooksTest.cpp - Embedded codebooks and k-means -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/KMeans.h"
#include "qpal/Quant/Random.h"
#include "qpal/Quant/Trellis.h"

#include "QuantTestUtil.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/SHA256.h"

#include <algorithm>
#include <cmath>

using namespace qpal;
using namespace qpal::test;

namespace {

/// codebooks.json's entry for `file`, or null.
const llvm::json::Object *findEntry(const llvm::json::Value &root,
                                    llvm::StringRef file) {
  const llvm::json::Array *list = root.getAsObject()->getArray("codebooks");
  for (const llvm::json::Value &entry : *list)
    if (entry.getAsObject()->getString("file") == file)
      return entry.getAsObject();
  return nullptr;
}

/// Every embedded file is byte-identical to the reference's export: its
/// SHA-256, shape and statistics are those of codebooks.json, and its bytes
/// those of the file in data/.
TEST(Codebooks, EmbeddedFilesMatchTheReference) {
  std::string text = readFile(sharedDir() + "/reference/data/codebooks.json");
  ASSERT_FALSE(text.empty());
  auto root = llvm::json::parse(text);
  QPAL_ASSERT_OK(root);
  std::vector<std::string> stems = embeddedCodebookStems();
  EXPECT_EQ(stems.size(), 24u);
  for (const std::string &stem : stems) {
    const llvm::json::Object *entry = findEntry(*root, stem + ".f32");
    ASSERT_NE(entry, nullptr) << stem;
    auto bytes = embeddedCodebookBytes(stem);
    QPAL_ASSERT_OK(bytes);
    auto hash = llvm::SHA256::hash(*bytes);
    EXPECT_EQ(llvm::toHex(hash, /*LowerCase=*/true),
              entry->getString("sha256")->str())
        << stem;
    std::string file =
        readFile(sharedDir() + "/reference/data/" + stem + ".f32");
    EXPECT_EQ(file, std::string(bytes->begin(), bytes->end())) << stem;

    const llvm::json::Array *shape = entry->getArray("shape");
    unsigned entries = static_cast<unsigned>(*(*shape)[0].getAsInteger());
    unsigned dim = static_cast<unsigned>(*(*shape)[1].getAsInteger());
    bool tcq = llvm::StringRef(stem).starts_with("tcq");
    auto codebook = tcq ? shippedTcqCodebook(llvm::Log2_32(entries))
                        : shippedLutCodebook(llvm::Log2_32(entries), dim);
    QPAL_ASSERT_OK(codebook);
    EXPECT_EQ((*codebook)->entries(), entries);
    EXPECT_EQ((*codebook)->dim(), dim);
    EXPECT_NEAR((*codebook)->rms(), *entry->getNumber("rms"), 1e-12) << stem;
    llvm::ArrayRef<float> values = (*codebook)->values();
    EXPECT_EQ(*std::min_element(values.begin(), values.end()),
              static_cast<float>(*entry->getNumber("min")));
    EXPECT_EQ(*std::max_element(values.begin(), values.end()),
              static_cast<float>(*entry->getNumber("max")));
  }
}

/// The loader check values of reference/README.md.
TEST(Codebooks, LoaderCheckValues) {
  auto tlut = shippedTcqCodebook(9);
  QPAL_ASSERT_OK(tlut);
  // The README prints 8 significant digits.
  EXPECT_NEAR((*tlut)->at(0, 0), 0.22448064, 5e-9);
  EXPECT_NEAR((*tlut)->at(0, 1), 0.01563327, 5e-9);
  EXPECT_NEAR((*tlut)->at(1, 0), 0.72062159, 5e-9);
  EXPECT_NEAR((*tlut)->at(1, 1), 1.00143099, 5e-9);
  auto sq2 = shippedLutCodebook(2, 1);
  QPAL_ASSERT_OK(sq2);
  const float expected[] = {-1.5105153f, -0.4530078f, 0.4525955f, 1.5103495f};
  for (unsigned i = 0; i < 4; ++i)
    EXPECT_NEAR((*sq2)->at(i, 0), expected[i], 5e-8);
  EXPECT_TRUE((*sq2)->isSortedScalar());
  // fp16 values are the rounded ones the kernels receive.
  EXPECT_EQ((*sq2)->at(0, 0, CodebookPrecision::Fp16), -1.5107421875f);
  EXPECT_EQ((*sq2)->halfBits()[0], 0xBE0B);
}

/// rms(lut) of quantizers.md 3.3, over the expanded 2^16-state table.
TEST(Codebooks, TcqLutRms) {
  const double expected[] = {0.9683875402523, 0.9684556301248, 0.9687047666616};
  for (unsigned t = 9; t <= 11; ++t) {
    auto table = TcqStateTable::shipped(t);
    QPAL_ASSERT_OK(table);
    EXPECT_NEAR((*table)->rms(), expected[t - 9], 1e-12) << t;
    EXPECT_NEAR((**shippedTcqCodebook(t)).rms(), expected[t - 9], 1e-12);
  }
}

TEST(Codebooks, Errors) {
  std::vector<uint8_t> bytes(12);
  QPAL_EXPECT_CONTAINS(errorOf(parseCodebook(bytes, 2, 1)),
                       "expects 16 bytes for a codebook of 2^2 x 1 float32 "
                       "values, got 12");
  std::vector<uint8_t> nan = {0, 0, 0xC0, 0x7F, 0, 0, 0, 0};
  QPAL_EXPECT_CONTAINS(errorOf(parseCodebook(nan, 1, 1)),
                       "non-finite value at index 0");
  QPAL_EXPECT_CONTAINS(errorOf(loadCodebookFile("/nonexistent/x.f32", 2, 1)),
                       "cannot read codebook '/nonexistent/x.f32'");
  QPAL_EXPECT_CONTAINS(errorOf(shippedLutCodebook(9, 1)),
                       "no shipped SQ codebook with 2^9 codewords");
  QPAL_EXPECT_CONTAINS(errorOf(shippedCodebook(QuantizerSpec::f16())),
                       "f16 has no codebook");
  auto loaded =
      loadCodebookFile(sharedDir() + "/reference/data/vq_lut_12x2.f32", 12, 2);
  QPAL_ASSERT_OK(loaded);
  EXPECT_EQ(loaded->values(), (**shippedLutCodebook(12, 2)).values());
}

/// Lloyd on Gaussian samples converges to the Lloyd-Max quantizer: for
/// 2 bits the levels are +-0.4528 and +-1.510 (quantizers.md 6.1). A finite
/// sample shifts the levels slightly (by about 0.01), so the test compares
/// the symmetric parts.
TEST(KMeans, ScalarGaussianCodebook) {
  KMeansOptions options;
  options.seed = 3;
  options.iterations = 400; // Lloyd converges slowly on the outer levels
  options.tolerance = 0;
  auto codebook = trainGaussianCodebook(2, 1, 1 << 17, options);
  QPAL_ASSERT_OK(codebook);
  EXPECT_NEAR((codebook->at(3, 0) - codebook->at(0, 0)) / 2, 1.510, 0.01);
  EXPECT_NEAR((codebook->at(2, 0) - codebook->at(1, 0)) / 2, 0.4528, 0.01);
  EXPECT_NEAR(codebook->at(3, 0) + codebook->at(0, 0), 0.0, 0.05);
  EXPECT_TRUE(codebook->isSortedScalar());
  // Seeded: the same seed gives the same codebook.
  auto again = trainGaussianCodebook(2, 1, 1 << 17, options);
  QPAL_ASSERT_OK(again);
  EXPECT_EQ(codebook->values(), again->values());
}

/// A 2-D 16-codeword codebook reaches the shipped one's distortion
/// (ldlq_2_4: 0.1086 normalized MSE) within 3%, and the TCQ-style rescale
/// sets the population std.
TEST(KMeans, VectorGaussianCodebook) {
  KMeansOptions options;
  options.seed = 5;
  auto result = [&] {
    std::vector<float> points(2 * 100000);
    SplitMix64 rng(11);
    for (float &p : points)
      p = static_cast<float>(rng.gaussian());
    return lloydKMeans(points, 2, 16, options);
  }();
  QPAL_ASSERT_OK(result);
  EXPECT_NEAR(result->meanSquaredError / 0.10859, 1.0, 0.03);
  auto rescaled =
      trainGaussianCodebook(4, 2, 20000, options, 0.9682458365518543);
  QPAL_ASSERT_OK(rescaled);
  double sum = 0, sum2 = 0;
  for (float v : rescaled->values()) {
    sum += v;
    sum2 += static_cast<double>(v) * v;
  }
  double mean = sum / 32;
  EXPECT_NEAR(std::sqrt(sum2 / 32 - mean * mean), 0.9682458365518543, 1e-6);
}

TEST(KMeans, Errors) {
  std::vector<float> points = {0.0f, 1.0f, 2.0f};
  QPAL_EXPECT_CONTAINS(errorOf(lloydKMeans(points, 1, 4)),
                       "expects at least k = 4 points, got 3");
  QPAL_EXPECT_CONTAINS(errorOf(lloydKMeans(points, 2, 1)),
                       "expects points of dimension 2, got 3 values");
  QPAL_EXPECT_CONTAINS(errorOf(trainGaussianCodebook(4, 2, 100, {}, -1.0)),
                       "positive target standard deviation");
}

} // namespace
