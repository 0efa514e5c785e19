//===- LayoutGeometryTest.cpp - Layout facts against the packers ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The geometry the kernel emitters read from QuantizerSpec (lane segment
// bytes, column part offsets, pair-table sizes) must describe the bytes the
// packers actually write: every palette quantizer's codes are encoded and
// their sizes and part boundaries checked against it.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Quant/Random.h"
#include "qpal/Quant/SimtLayout.h"
#include "qpal/Quant/TcqSplit.h"
#include "qpal/Quant/TileLayout.h"

#include "gtest/gtest.h"

#include <vector>

using namespace qpal;

namespace {

constexpr int64_t kRows = 64, kCols = 128;

/// Every quantizer of the palette, in both kernel layouts where it has two.
std::vector<QuantizerSpec> layoutCases() { return allCodedQuantizers(); }

/// The packed codes of a Gaussian 64 x 128 weight.
std::vector<uint8_t> encode(const QuantizerSpec &spec) {
  std::vector<float> weights(kRows * kCols);
  fillGaussian(weights.data(), static_cast<int64_t>(weights.size()), 11);
  auto codes = encodeNormalized(spec, weights.data(), kRows, kCols);
  EXPECT_TRUE(static_cast<bool>(codes))
      << spec.referenceName() << ": " << llvm::toString(codes.takeError());
  return codes ? *codes : std::vector<uint8_t>();
}

/// Tensor-core layouts: each column part is (M/32) x (K_part/32) supertiles
/// of 32 lane segments, and the parts follow each other.
TEST(LayoutGeometry, LaneSegmentsTileThePackedCodes) {
  for (const QuantizerSpec &spec : layoutCases()) {
    if (spec.kernel == KernelKind::Simt)
      continue;
    SCOPED_TRACE(spec.referenceName());
    unsigned parts = spec.numColumnParts();
    EXPECT_EQ(parts, spec.family == QuantizerFamily::TcqSplit ? 2u : 1u);
    uint64_t expected = 0;
    for (unsigned part = 0; part < parts; ++part) {
      EXPECT_EQ(spec.partByteOffset(kRows, kCols, part), expected);
      unsigned segment = spec.laneSegmentBytes(part);
      EXPECT_GT(segment, 0u);
      // A lane's 16 pairs: 32 weights at the part's rate.
      unsigned kv = part == 0 ? spec.kv1 : spec.kv2;
      double bits = spec.family == QuantizerFamily::Tcq ||
                            spec.family == QuantizerFamily::TcqSplit
                        ? kv / 2.0
                        : spec.bitsPerWeight();
      EXPECT_DOUBLE_EQ(segment * 8.0, 32 * bits);
      expected += static_cast<uint64_t>(kRows / kSupertileDim) *
                  (kCols / parts / kSupertileDim) * kWarpLanes * segment;
    }
    std::vector<uint8_t> codes = encode(spec);
    EXPECT_EQ(codes.size(), expected);
    EXPECT_EQ(spec.codeBytes(kRows, kCols), expected);
    if (parts == 2)
      EXPECT_EQ(spec.partByteOffset(kRows, kCols, 1),
                tcqSplitSecondPartOffset(kRows, kCols, spec.kv1));
    EXPECT_EQ(spec.simtChunkColumns(), 0u);
  }
}

/// SIMT layouts have no lane segments; a row chunk is 1024 vectors, and the
/// packer's output is the same codes in chunk order.
TEST(LayoutGeometry, SimtChunks) {
  for (const QuantizerSpec &spec : layoutCases()) {
    if (spec.kernel != KernelKind::Simt)
      continue;
    SCOPED_TRACE(spec.referenceName());
    EXPECT_EQ(spec.laneSegmentBytes(0), 0u);
    EXPECT_EQ(spec.packedPairEntries(), 0u);
    EXPECT_EQ(spec.simtChunkColumns(), 1024u * spec.vectorDim());
    std::vector<uint8_t> codes = encode(spec);
    EXPECT_EQ(codes.size(), spec.codeBytes(kRows, kCols));
  }
}

/// The pair table has one entry per 2-D codeword, or per pair of scalar
/// codes up to 6 bits; each entry is two fp16 values.
TEST(LayoutGeometry, PackedPairEntries) {
  for (const QuantizerSpec &spec : layoutCases()) {
    if (spec.kernel == KernelKind::Simt)
      continue;
    SCOPED_TRACE(spec.referenceName());
    if (spec.codebookBytes() == 0) {
      // No table to read, none to pair up (a computed trellis code).
      EXPECT_EQ(spec.packedPairEntries(), 0u);
      continue;
    }
    auto codebook = shippedCodebook(spec);
    ASSERT_TRUE(static_cast<bool>(codebook))
        << llvm::toString(codebook.takeError());
    int64_t entries = static_cast<int64_t>((*codebook)->entries());
    if ((*codebook)->dim() == 1) {
      EXPECT_EQ(spec.packedPairEntries(),
                spec.indexBits <= 6 ? static_cast<unsigned>(entries * entries)
                                    : 0u);
      continue;
    }
    EXPECT_EQ(spec.packedPairEntries(), static_cast<unsigned>(entries));
    EXPECT_EQ(spec.packedPairEntries() * 4, spec.codebookBytes());
  }
}

} // namespace
