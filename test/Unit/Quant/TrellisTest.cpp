//===- TrellisTest.cpp - TCQ states, streams and kernel layout ------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Trellis.h"

#include "qpal/Quant/Random.h"
#include "qpal/Quant/TileLayout.h"
#include "llvm/ADT/APFloat.h"

#include "QuantTestUtil.h"

using namespace qpal;
using namespace qpal::test;

namespace {

/// Random streams for `tiles` tiles at `kv`.
std::vector<uint16_t> randomStreams(size_t tiles, unsigned kv, uint64_t seed) {
  std::vector<uint16_t> streams(tiles * tcqStreamWords(kv));
  SplitMix64 rng(seed);
  for (uint16_t &word : streams)
    word = static_cast<uint16_t>(rng.next());
  return streams;
}

/// quantlut_sym written as the reference does it, in 64-bit arithmetic
/// without the mod 2^16: sign = bit 15 of (s + 1) s, index = bits
/// [15 - T, 15) (quantizers.md 4.2).
/// The computed codes' tables follow beyond.md section 2's formulas, written
/// out here independently: byte by byte for 1MAD (divided by 128 rather
/// than 147.8: the row scale absorbs it, and the values stay exact in
/// fp16), half by half through llvm::APFloat for 3INST, each weight of a
/// step from its own multiply-add.
TEST(Trellis, ComputedCodesFollowTheFormulas) {
  const TcqStateTable &oneMad = *TcqStateTable::computed(TrellisCode::OneMad);
  const TcqStateTable &threeInst =
      *TcqStateTable::computed(TrellisCode::ThreeInst);
  auto halfValue = [](uint32_t bits) {
    llvm::APFloat value(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits));
    bool lost;
    value.convert(llvm::APFloat::IEEEsingle(),
                  llvm::APFloat::rmNearestTiesToEven, &lost);
    return value.convertToFloat();
  };
  for (uint32_t s = 0; s < (1u << 16); s += 7) {
    uint64_t x1 = (uint64_t{s} * 34038481 + 76625530) % (uint64_t{1} << 32);
    uint64_t x2 = (x1 * 1664525 + 1013904223) % (uint64_t{1} << 32);
    int bytes1 = 0, bytes2 = 0;
    for (int i = 0; i < 4; ++i) {
      bytes1 += (x1 >> (8 * i)) & 255;
      bytes2 += (x2 >> (8 * i)) & 255;
    }
    ASSERT_EQ(oneMad.first(CodebookPrecision::Fp32)[s], (bytes1 - 510) / 128.0)
        << s;
    ASSERT_EQ(oneMad.second(CodebookPrecision::Fp32)[s], (bytes2 - 510) / 128.0)
        << s;
    ASSERT_EQ(oneMad.first(CodebookPrecision::Fp16)[s],
              oneMad.first(CodebookPrecision::Fp32)[s]);

    uint32_t words[2] = {
        static_cast<uint32_t>((uint64_t{s} * 89226354 + 64248484) & 0xFFFFFFFF),
        static_cast<uint32_t>((uint64_t{s} * 3822763466u + 1013904223) &
                              0xFFFFFFFF)};
    for (int i = 0; i < 2; ++i) {
      uint32_t w = (words[i] & 0x8FFF8FFF) ^ 0x3B603B60;
      float exact = halfValue(w >> 16) + halfValue(w & 0xFFFF);
      const float *table = i == 0 ? threeInst.first(CodebookPrecision::Fp32)
                                  : threeInst.second(CodebookPrecision::Fp32);
      ASSERT_EQ(table[s], exact) << s;
    }
  }
  // Each half has magnitude in [1/8, 2): the sums are spread about 0.
  EXPECT_GT(threeInst.rms(), 0.5);
  EXPECT_LT(threeInst.rms(), 2.0);
  EXPECT_GT(oneMad.rms(), 0.1);
}

TEST(Trellis, StateReconstruction) {
  for (unsigned t = 9; t <= 11; ++t) {
    auto table = TcqStateTable::shipped(t);
    QPAL_ASSERT_OK(table);
    const Codebook &tlut = **shippedTcqCodebook(t);
    for (uint64_t s = 0; s < kTcqStates; s += 7) {
      uint64_t product = (s + 1) * s;
      float sign = ((product >> 15) & 1) ? -1.0f : 1.0f;
      uint64_t index = (product >> (16 - t - 1)) & ((1u << t) - 1);
      for (auto precision :
           {CodebookPrecision::Fp32, CodebookPrecision::Fp16}) {
        ASSERT_EQ((*table)->first(precision)[s],
                  sign * tlut.at(index, 0, precision))
            << s;
        ASSERT_EQ((*table)->second(precision)[s], tlut.at(index, 1, precision))
            << s;
      }
    }
  }
  // States 0 and 1 hash to 0 and 2: both decode to tlut row 0, unsigned.
  const TcqStateTable &table = **TcqStateTable::shipped(9);
  EXPECT_EQ(table.first(CodebookPrecision::Fp32)[1], 0.22448064f);
  EXPECT_EQ(table.second(CodebookPrecision::Fp32)[1], 0.01563327f);
}

/// The A-fragment order of kernels-and-msq.md 4.3: step 4 lane + j covers
/// rows (g, g + 8, g, g + 8) and columns (2t, 2t, 2t + 8, 2t + 8) for
/// j = 0..3, with g = lane / 4 and t = lane % 4.
TEST(Trellis, SequenceOrderIsTheFragmentOrder) {
  for (unsigned lane = 0; lane < 32; ++lane)
    for (unsigned j = 0; j < 4; ++j) {
      unsigned g = lane / 4, t = lane % 4;
      unsigned step = 4 * lane + j;
      TilePosition first = tileSequencePosition(2 * step);
      TilePosition second = tileSequencePosition(2 * step + 1);
      EXPECT_EQ(first.row, g + 8 * (j % 2));
      EXPECT_EQ(first.col, 2 * t + 8 * (j / 2));
      EXPECT_EQ(second.row, first.row);
      EXPECT_EQ(second.col, first.col + 1);
    }
}

/// Random streams decode to tail-biting paths that pack back bit-exactly;
/// state k is the circular window at bit k KV.
TEST(Trellis, StreamsRoundTrip) {
  for (unsigned kv = 2; kv <= 10; ++kv) {
    std::vector<uint16_t> streams = randomStreams(5, kv, kv);
    auto states = unpackTcqStreams(streams, kv);
    QPAL_ASSERT_OK(states);
    const unsigned bits = 128 * kv;
    for (size_t tile = 0; tile < 5; ++tile) {
      llvm::ArrayRef<uint16_t> path =
          llvm::ArrayRef<uint16_t>(*states).slice(tile * 128, 128);
      EXPECT_TRUE(isTailBiting(path, kv));
      const uint16_t *words = streams.data() + tile * tcqStreamWords(kv);
      for (unsigned k = 0; k < 128; ++k) {
        unsigned window = 0;
        for (unsigned i = 0; i < 16; ++i) {
          unsigned bit = (k * kv + i) % bits;
          window = window << 1 | ((words[bit / 16] >> (15 - bit % 16)) & 1);
        }
        ASSERT_EQ(path[k], window) << kv << " " << k;
      }
    }
    auto packed = packTcqStreams(*states, kv);
    QPAL_ASSERT_OK(packed);
    EXPECT_EQ(*packed, streams) << kv;
  }
}

TEST(Trellis, RejectsPathsThatAreNotTailBiting) {
  std::vector<uint16_t> states = *unpackTcqStreams(randomStreams(1, 6, 1), 6);
  states[127] ^= 1; // breaks the wrap-around to state 0
  QPAL_EXPECT_CONTAINS(errorOf(packTcqStreams(states, 6)),
                       "the states of tile 0 are not a tail-biting path");
  QPAL_EXPECT_CONTAINS(errorOf(packTcqStreams(states, 11)),
                       "expects KV in [2, 10], got 11");
  states.pop_back();
  QPAL_EXPECT_CONTAINS(errorOf(packTcqStreams(states, 6)),
                       "expects 128 states per tile, got 127 states");
}

/// kernels-and-msq.md 4.4, written independently: the R uint16 words of
/// (m-pair mp, k-pair kp, lane l) start at word mp (K R) + kp (32 R) + l R and
/// form a little-endian integer W; tile t = subk 2 + subm owns bits
/// [4 R t, 4 R t + 4 R) of W, whose most significant bit is stream bit 4 R l.
std::vector<uint8_t> closedFormLayout(const std::vector<uint16_t> &streams,
                                      int64_t rows, int64_t cols, unsigned r) {
  const unsigned words = 8 * r;
  std::vector<uint16_t> out(static_cast<size_t>(rows * cols * r / 32), 0);
  for (int64_t mp = 0; mp < rows / 32; ++mp)
    for (int64_t kp = 0; kp < cols / 32; ++kp)
      for (unsigned l = 0; l < 32; ++l) {
        std::vector<bool> w(16 * r, false);
        for (unsigned subk = 0; subk < 2; ++subk)
          for (unsigned subm = 0; subm < 2; ++subm) {
            unsigned t = subk * 2 + subm;
            int64_t tile = (2 * mp + subm) * (cols / 16) + 2 * kp + subk;
            const uint16_t *stream = streams.data() + tile * words;
            for (unsigned i = 0; i < 4 * r; ++i) {
              unsigned bit = 4 * r * l + i;
              bool value = (stream[bit / 16] >> (15 - bit % 16)) & 1;
              w[4 * r * t + (4 * r - 1 - i)] = value;
            }
          }
        size_t offset = mp * (cols * r) + kp * (32 * r) + l * r;
        for (unsigned j = 0; j < r; ++j)
          for (unsigned b = 0; b < 16; ++b)
            if (w[16 * j + b])
              out[offset + j] |= static_cast<uint16_t>(1u << b);
      }
  std::vector<uint8_t> bytes;
  for (uint16_t word : out) {
    bytes.push_back(static_cast<uint8_t>(word));
    bytes.push_back(static_cast<uint8_t>(word >> 8));
  }
  return bytes;
}

TEST(Trellis, KernelLayoutMatchesTheClosedForm) {
  const int64_t rows = 64, cols = 96;
  for (unsigned kv = 2; kv <= 10; ++kv) {
    std::vector<uint16_t> streams =
        randomStreams((rows / 16) * (cols / 16), kv, 100 + kv);
    auto packed = packTcqKernelLayout(streams, rows, cols, kv);
    QPAL_ASSERT_OK(packed);
    EXPECT_EQ(packed->size(), static_cast<size_t>(rows * cols * kv / 16));
    EXPECT_EQ(*packed, closedFormLayout(streams, rows, cols, kv)) << kv;
    auto unpacked = unpackTcqKernelLayout(*packed, rows, cols, kv);
    QPAL_ASSERT_OK(unpacked);
    EXPECT_EQ(*unpacked, streams) << kv;
  }
}

/// Decoding straight from the kernel layout (windows that run into the next
/// lanes' chunks) equals reconstructing the unpacked states.
TEST(Trellis, KernelLayoutDecode) {
  const int64_t rows = 32, cols = 64;
  const TcqStateTable &table = **TcqStateTable::shipped(9);
  for (unsigned kv : {2u, 5u, 8u, 10u}) {
    std::vector<uint16_t> streams = randomStreams(8, kv, kv);
    auto packed = packTcqKernelLayout(streams, rows, cols, kv);
    QPAL_ASSERT_OK(packed);
    for (auto precision : {CodebookPrecision::Fp32, CodebookPrecision::Fp16}) {
      auto decoded =
          decodeTcqKernelLayout(*packed, rows, cols, kv, table, precision);
      QPAL_ASSERT_OK(decoded);
      auto expected = reconstructTcqStates(*unpackTcqStreams(streams, kv), rows,
                                           cols, table, precision);
      QPAL_ASSERT_OK(expected);
      EXPECT_EQ(*decoded, *expected) << kv;
    }
  }
}

TEST(Trellis, RejectsBadShapes) {
  std::vector<uint16_t> streams = randomStreams(6, 4, 1);
  QPAL_EXPECT_CONTAINS(errorOf(packTcqKernelLayout(streams, 48, 32, 4)),
                       "expects M divisible by 32, got 48");
  QPAL_EXPECT_CONTAINS(errorOf(packTcqKernelLayout(streams, 32, 32, 4)),
                       "expects 128 stream words for a 32x32 matrix at KV = 4, "
                       "got 192");
  std::vector<uint8_t> bytes(10);
  QPAL_EXPECT_CONTAINS(
      errorOf(unpackTcqKernelLayout(bytes, 32, 32, 4)),
      "expects 256 bytes for a 32x32 matrix at KV = 4, got 10");
  QPAL_EXPECT_CONTAINS(errorOf(decodeTcqKernelLayout(
                           bytes, 32, 32, 1, **TcqStateTable::shipped(9),
                           CodebookPrecision::Fp16)),
                       "expects KV in [2, 10], got 1");
  QPAL_EXPECT_CONTAINS(errorOf(packTcqKernelLayout(streams, 0, 32, 4)),
                       "expects a non-empty weight, got 0x32");
}

} // namespace
