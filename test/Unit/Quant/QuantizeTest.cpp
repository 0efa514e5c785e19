//===- QuantizeTest.cpp - Layer pipeline, palette layouts, oracle ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/Half.h"
#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/Random.h"
#include "qpal/Quant/Reference.h"
#include "qpal/Quant/SimtLayout.h"
#include "qpal/Quant/TcqSplit.h"

#include "QuantTestUtil.h"

#include <cmath>

using namespace qpal;
using namespace qpal::test;

namespace {

std::vector<float> gaussian(int64_t count, uint64_t seed, float scale = 1) {
  std::vector<float> values(count);
  fillGaussian(values.data(), count, seed);
  for (float &v : values)
    v *= scale;
  return values;
}

std::vector<uint16_t> randomWords(size_t count, unsigned bits, uint64_t seed) {
  std::vector<uint16_t> words(count);
  SplitMix64 rng(seed);
  for (uint16_t &word : words)
    word = static_cast<uint16_t>(rng.next() & ((1u << bits) - 1));
  return words;
}

/// For every quantizer of the palette, random codes survive the round trip
/// through its kernel layout bit for bit, and decodeNormalized agrees with
/// the family's own decoder.
TEST(Quantize, PaletteLayoutsRoundTrip) {
  const int64_t rows = 64, cols = 128;
  uint64_t seed = 0;
  for (const QuantizerSpec &spec : referencePalette()) {
    SCOPED_TRACE(spec.referenceName());
    ++seed;
    std::vector<uint8_t> codes;
    std::vector<float> expected;
    if (spec.family == QuantizerFamily::Tcq ||
        spec.family == QuantizerFamily::TcqSplit) {
      const TcqStateTable &table = **TcqStateTable::shipped(spec.tlutBits);
      bool split = spec.family == QuantizerFamily::TcqSplit;
      int64_t width = split ? cols / 2 : cols;
      expected.assign(rows * cols, 0.0f);
      for (unsigned part = 0; part < (split ? 2u : 1u); ++part) {
        unsigned kv = part ? spec.kv2 : spec.kv1;
        std::vector<uint16_t> streams = randomWords(
            (rows / 16) * (width / 16) * tcqStreamWords(kv), 16, seed + part);
        auto packed = packTcqKernelLayout(streams, rows, width, kv);
        QPAL_ASSERT_OK(packed);
        auto unpacked = unpackTcqKernelLayout(*packed, rows, width, kv);
        QPAL_ASSERT_OK(unpacked);
        EXPECT_EQ(*unpacked, streams);
        codes.insert(codes.end(), packed->begin(), packed->end());
        auto hat = reconstructTcqStates(*unpackTcqStreams(streams, kv), rows,
                                        width, table, CodebookPrecision::Fp16);
        QPAL_ASSERT_OK(hat);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < width; ++c)
            expected[r * cols + part * width + c] = (*hat)[r * width + c];
      }
    } else {
      const Codebook &codebook = **shippedCodebook(spec);
      unsigned dim = spec.vectorDim();
      std::vector<uint16_t> raw =
          randomWords(rows * cols / dim, spec.indexBits, seed);
      auto packed = packLutTensorCore(raw, rows, cols, spec.indexBits, dim);
      QPAL_ASSERT_OK(packed);
      EXPECT_EQ(*unpackLutTensorCore(*packed, rows, cols, spec.indexBits, dim),
                raw);
      auto simt = packLutSimt(raw, rows, cols, spec.indexBits, dim);
      QPAL_ASSERT_OK(simt);
      EXPECT_EQ(*unpackLutSimt(*simt, rows, cols, spec.indexBits, dim), raw);
      QuantizerSpec simtSpec = spec;
      simtSpec.kernel = KernelKind::Simt;
      auto simtDecoded = decodeNormalized(simtSpec, *simt, rows, cols,
                                          CodebookPrecision::Fp16);
      QPAL_ASSERT_OK(simtDecoded);
      codes = *packed;
      expected =
          *decodeLutCodes(raw, rows, cols, codebook, CodebookPrecision::Fp16);
      EXPECT_EQ(*simtDecoded, expected);
    }
    EXPECT_EQ(codes.size(), spec.codeBytes(rows, cols));
    auto decoded =
        decodeNormalized(spec, codes, rows, cols, CodebookPrecision::Fp16);
    QPAL_ASSERT_OK(decoded);
    EXPECT_EQ(*decoded, expected);
  }
}

/// quantizeLayer is exactly: signs from the seed, rows rotated by the RHT,
/// scaled by fp32(rms64) / (rms(lut) s) (TCQ) or / s (VQ/SQ), then
/// encodeNormalized; scales are stored in fp16.
TEST(Quantize, LayerPipelineComposition) {
  const int64_t rows = 64, cols = 192; // 192 = 12 * 16: a non-power of two
  std::vector<float> weights = gaussian(rows * cols, 77, 0.02f);
  const QuantizerSpec specs[] = {QuantizerSpec::tcq(5),
                                 QuantizerSpec::tcqSplit(4, 5),
                                 QuantizerSpec::vq(7), QuantizerSpec::sq(3),
                                 QuantizerSpec::sq(3, 1.0, KernelKind::Simt)};
  for (const QuantizerSpec &spec : specs) {
    SCOPED_TRACE(spec.referenceName());
    QuantizeOptions options;
    options.seed = 1234;
    auto layer = quantizeLayer(spec, weights.data(), rows, cols, options);
    QPAL_ASSERT_OK(layer);
    std::vector<float> signs = randomSigns(cols, 1234);
    EXPECT_EQ(layer->signs, signs);
    auto transform = HadamardTransform::create(cols);
    QPAL_ASSERT_OK(transform);
    double lutRms = 1.0;
    if (spec.family == QuantizerFamily::Tcq ||
        spec.family == QuantizerFamily::TcqSplit)
      lutRms = (**TcqStateTable::shipped(spec.tlutBits)).rms();
    float denominator = static_cast<float>(lutRms) * static_cast<float>(0.9);
    if (spec.family == QuantizerFamily::Vq ||
        spec.family == QuantizerFamily::Sq)
      denominator = 1.0f;
    std::vector<float> normalized(rows * cols);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> x(cols);
      for (int64_t c = 0; c < cols; ++c)
        x[c] = signs[c] * double(weights[r * cols + c]);
      transform->apply(x);
      double sum = 0;
      for (int64_t c = 0; c < cols; ++c)
        sum += double(float(x[c])) * float(x[c]);
      float scale = float(std::sqrt(sum / cols)) / denominator;
      EXPECT_EQ(layer->scales[r], floatToHalfBits(scale)) << r;
      for (int64_t c = 0; c < cols; ++c)
        normalized[r * cols + c] = float(x[c]) / scale;
    }
    auto codes = encodeNormalized(spec, normalized.data(), rows, cols);
    QPAL_ASSERT_OK(codes);
    EXPECT_EQ(layer->codes, *codes);
  }
}

/// W_hat = SU (.) R^T (Wscale (.) Wn_hat) with a dense R^T in float64; its
/// distortion on Gaussian weights is that of the quantizer; the oracle
/// matmul equals W_hat x.
TEST(Quantize, DequantizeAndReferenceMatmul) {
  const int64_t rows = 64, cols = 128;
  std::vector<float> weights = gaussian(rows * cols, 5, 0.05f);
  for (int64_t c = 0; c < cols; ++c)
    weights[3 * cols + c] = 0.0f; // an all-zero row has scale 0
  const QuantizerSpec specs[] = {QuantizerSpec::tcq(6),
                                 QuantizerSpec::tcqSplit(6, 7),
                                 QuantizerSpec::vq(8),
                                 QuantizerSpec::sq(4),
                                 QuantizerSpec::vq(8, 1.0, KernelKind::Simt),
                                 QuantizerSpec::f16()};
  for (const QuantizerSpec &spec : specs) {
    SCOPED_TRACE(spec.referenceName());
    auto layer = quantizeLayer(spec, weights.data(), rows, cols);
    QPAL_ASSERT_OK(layer);
    auto hat = dequantizeLayer(*layer);
    QPAL_ASSERT_OK(hat);
    EXPECT_EQ(layer->scales.empty() ? 0.0f : layer->scale(3), 0.0f);

    // Independent W_hat: dense R^T[i][j] = R[j][i] from the Kronecker form.
    std::vector<double> dense(rows * cols);
    if (spec.family == QuantizerFamily::F16) {
      for (int64_t i = 0; i < rows * cols; ++i)
        dense[i] = roundToHalf(weights[i]);
    } else {
      auto normal = decodeNormalized(spec, layer->codes, rows, cols,
                                     CodebookPrecision::Fp16);
      QPAL_ASSERT_OK(normal);
      double norm = 1.0 / std::sqrt(double(cols));
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          double sum = 0;
          for (int64_t j = 0; j < cols; ++j) {
            int sign = llvm::popcount(uint64_t(c & j)) % 2 ? -1 : 1;
            sum += sign * norm * layer->scale(r) * (*normal)[r * cols + j];
          }
          dense[r * cols + c] = layer->signs[c] * sum;
        }
    }
    double error = 0, energy = 0;
    for (int64_t i = 0; i < rows * cols; ++i) {
      ASSERT_NEAR((*hat)[i], dense[i], 1e-6 * 0.05) << i;
      error += std::pow(double(weights[i]) - dense[i], 2);
      energy += double(weights[i]) * weights[i];
    }
    if (spec.family != QuantizerFamily::F16)
      EXPECT_NEAR(error / energy / spec.expectedDistortion(), 1.0, 0.3);
    else
      EXPECT_LT(error / energy, 1e-6);

    const int64_t batch = 3;
    std::vector<double> x(batch * cols);
    SplitMix64 rng(8);
    for (double &v : x)
      v = rng.gaussian();
    auto y = referenceMatmul(*layer, x, batch);
    QPAL_ASSERT_OK(y);
    std::vector<float> xf(x.begin(), x.end());
    auto yf = referenceMatmulF32(*layer, xf, batch);
    QPAL_ASSERT_OK(yf);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t r = 0; r < rows; ++r) {
        double expected = 0;
        for (int64_t c = 0; c < cols; ++c)
          expected += dense[r * cols + c] * x[b * cols + c];
        EXPECT_NEAR((*y)[b * rows + r], expected, 1e-12);
        EXPECT_NEAR((*yf)[b * rows + r], expected, 1e-5);
      }
  }
}

/// Every member of every family that stores codes (Families.def), in each
/// layout: Gaussian weights quantized through its codec come back from the
/// reference decode with the distortion the reference measured for its
/// rate (QuantizerSpec::expectedDistortion), and in exactly codeBytes
/// bytes. A new family is covered without editing this test.
TEST(Quantize, EveryFamilyMemberMeetsItsDistortion) {
  const int64_t rows = 128;
  for (const QuantizerSpec &spec : allCodedQuantizers()) {
    SCOPED_TRACE(spec.referenceName());
    const int64_t cols = std::max<int64_t>(256, spec.requiredColMultiple());
    std::vector<float> weights = gaussian(rows * cols, 21, 0.02f);
    auto layer = quantizeLayer(spec, weights.data(), rows, cols);
    QPAL_ASSERT_OK(layer);
    EXPECT_EQ(layer->codes.size(), spec.codeBytes(rows, cols));
    auto hat = dequantizeLayer(*layer);
    QPAL_ASSERT_OK(hat);
    double error = 0, energy = 0;
    for (int64_t i = 0; i < rows * cols; ++i) {
      error += std::pow(double(weights[i]) - (*hat)[i], 2);
      energy += double(weights[i]) * weights[i];
    }
    EXPECT_NEAR(error / energy / spec.expectedDistortion(), 1.0, 0.25);
  }
}

/// A shared sign vector is used as given, and layers without rotation
/// quantize W / Wscale directly.
TEST(Quantize, SignsAndNoRotation) {
  const int64_t rows = 32, cols = 64;
  std::vector<float> weights = gaussian(rows * cols, 6);
  QuantizeOptions options;
  options.signs = randomSigns(cols, 99);
  auto layer =
      quantizeLayer(QuantizerSpec::vq(6), weights.data(), rows, cols, options);
  QPAL_ASSERT_OK(layer);
  EXPECT_EQ(layer->signs, options.signs);
  EXPECT_TRUE(layer->rotated);

  QuantizeOptions plain;
  plain.rotate = false;
  auto unrotated =
      quantizeLayer(QuantizerSpec::sq(4), weights.data(), rows, cols, plain);
  QPAL_ASSERT_OK(unrotated);
  EXPECT_FALSE(unrotated->rotated);
  EXPECT_TRUE(unrotated->signs.empty());
  auto hat = dequantizeLayer(*unrotated, CodebookPrecision::Fp16);
  QPAL_ASSERT_OK(hat);
  const Codebook &sq4 = **shippedLutCodebook(4, 1);
  // Each W_hat is fp16(scale) times an fp16 codeword.
  for (int64_t c = 0; c < cols; ++c) {
    double ratio = (*hat)[c] / unrotated->scale(0);
    bool found = false;
    for (size_t i = 0; i < 16; ++i)
      found |= std::fabs(ratio - sq4.at(i, 0, CodebookPrecision::Fp16)) < 1e-6;
    EXPECT_TRUE(found) << c;
  }
}

TEST(Quantize, RejectsBadInput) {
  std::vector<float> weights(64 * 400, 0.25f);
  struct Case {
    QuantizerSpec spec;
    int64_t rows, cols;
    const char *message;
  } cases[] = {
      {QuantizerSpec::tcq(6), 48, 64,
       "expects M divisible by 32 for tcq_6_none_0.9, got 48"},
      {QuantizerSpec::tcqSplit(6, 7), 32, 96,
       "expects K divisible by 64 for tcomb_6_7_0.5_none_0.9, got 96"},
      {QuantizerSpec::vq(6, 1.0, KernelKind::Simt), 4, 32,
       "expects K divisible by 64 for ldlq_2_6_none_1.0:simt, got 32"},
      {QuantizerSpec::sq(4), 32, 352, "unsupported Hadamard size n = 352"},
      {QuantizerSpec::sq(4), 0, 64, "expects a non-empty weight, got 0x64"},
      {QuantizerSpec::tcq(13), 32, 64,
       "invalid quantizer tcq_13_none_0.9: "
       "KV must be in [2, 10], got 13"},
  };
  for (const Case &c : cases)
    QPAL_EXPECT_CONTAINS(
        errorOf(quantizeLayer(c.spec, weights.data(), c.rows, c.cols)),
        c.message);
  QPAL_EXPECT_CONTAINS(
      errorOf(quantizeLayer(QuantizerSpec::sq(4), nullptr, 32, 64)),
      "expects a weight, got a null pointer");
  std::vector<float> big(32 * 4128, 0.5f);
  QPAL_EXPECT_CONTAINS(
      errorOf(quantizeLayer(QuantizerSpec::sq(4), big.data(), 32, 4128)),
      "unsupported Hadamard size n = 4128: the reference pairs it with K = "
      "172, but n / 172 = 24 is not a power of two");
  weights[70] = NAN;
  QPAL_EXPECT_CONTAINS(
      errorOf(quantizeLayer(QuantizerSpec::sq(4), weights.data(), 32, 64)),
      "expects finite weights, got nan at (1, 6)");
  weights[70] = 1.0f;
  QuantizeOptions options;
  options.signs = {1.0f, -1.0f};
  QPAL_EXPECT_CONTAINS(errorOf(quantizeLayer(QuantizerSpec::sq(4),
                                             weights.data(), 32, 64, options)),
                       "expects a sign vector of 64 entries (one per column), "
                       "got 2");
  options.signs.assign(64, 1.0f);
  options.signs[5] = 0.5f;
  QPAL_EXPECT_CONTAINS(errorOf(quantizeLayer(QuantizerSpec::sq(4),
                                             weights.data(), 32, 64, options)),
                       "expects sign vector entries of +1 or -1, got 0.5 at 5");
  std::vector<float> huge(32 * 64, 1e6f);
  QPAL_EXPECT_CONTAINS(
      errorOf(quantizeLayer(QuantizerSpec::f16(), huge.data(), 32, 64)),
      "f16: the weight 1000000 at (0, 0) overflows fp16");
  QPAL_EXPECT_CONTAINS(
      errorOf(quantizeLayer(QuantizerSpec::sq(4), huge.data(), 32, 64)),
      "the scale 1000000 of row 0 overflows fp16");
  auto layer = quantizeLayer(QuantizerSpec::sq(4), weights.data(), 32, 64);
  QPAL_ASSERT_OK(layer);
  QPAL_EXPECT_CONTAINS(errorOf(referenceMatmul(*layer, {1.0, 2.0}, 1)),
                       "expects a positive batch of 64-value inputs, got 2 "
                       "values for a batch of 1");
  layer->codes.pop_back();
  QPAL_EXPECT_CONTAINS(errorOf(dequantizeLayer(*layer)),
                       "expects 1024 bytes for a 32x64 matrix at 4 bits, "
                       "got 1023");
}

} // namespace
