//===- SimtLayoutTest.cpp - CUDA-core layouts of VQ and SQ codes ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/SimtLayout.h"
#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/Random.h"

#include "QuantTestUtil.h"

using namespace qpal;
using namespace qpal::test;

namespace {

std::vector<uint16_t> randomCodes(size_t count, unsigned bits, uint64_t seed) {
  std::vector<uint16_t> codes(count);
  SplitMix64 rng(seed);
  for (uint16_t &code : codes)
    code = static_cast<uint16_t>(rng.next() & ((1u << bits) - 1));
  return codes;
}

/// Word `index` of a little-endian uint32 buffer.
uint32_t wordAt(const std::vector<uint8_t> &bytes, size_t index) {
  return bytes[4 * index] | bytes[4 * index + 1] << 8 |
         bytes[4 * index + 2] << 16 | uint32_t(bytes[4 * index + 3]) << 24;
}

/// Code i of thread t: bits [i b, (i + 1) b) of the thread's words
/// w = 0..b-1, concatenated LSB-first.
uint32_t threadCode(const std::vector<uint32_t> &words, unsigned i,
                    unsigned bits) {
  uint32_t code = 0;
  for (unsigned k = 0; k < bits; ++k) {
    unsigned bit = i * bits + k;
    code |= ((words[bit / 32] >> (bit % 32)) & 1u) << k;
  }
  return code;
}

/// Full chunks, decoded the way kernels-and-msq.md 6 and 7 describe the
/// kernels' loops: word w of thread t of row r at
/// r (K b / (32 v)) + it b 32 + w 32 + t; SQ weight i at column
/// it 1024 + 8 (t + 32 (i / 8)) + i % 8; VQ chunk c (of 8 halves, 8 / v
/// vectors) at column it 1024 v + 8 (t + 32 c).
TEST(SimtLayout, FullChunksMatchTheKernelLoops) {
  const int64_t rows = 4;
  for (unsigned vec : {1u, 2u})
    for (unsigned bits = 2; bits <= (vec == 1 ? 8u : 12u); bits += 3) {
      const int64_t cols = 2048 * vec;
      std::vector<uint16_t> codes =
          randomCodes(rows * cols / vec, bits, bits + 10 * vec);
      auto packed = packLutSimt(codes, rows, cols, bits, vec);
      QPAL_ASSERT_OK(packed);
      const int64_t wordsPerRow = cols * bits / (32 * vec);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t it = 0; it < cols / (1024 * vec); ++it)
          for (unsigned t = 0; t < 32; ++t) {
            std::vector<uint32_t> words(bits);
            for (unsigned w = 0; w < bits; ++w)
              words[w] = wordAt(*packed,
                                r * wordsPerRow + it * bits * 32 + w * 32 + t);
            for (unsigned i = 0; i < 32; ++i) {
              int64_t col;
              if (vec == 1)
                col = it * 1024 + 8 * (t + 32 * (i / 8)) + i % 8;
              else
                col = it * 1024 * vec + 8 * (t + 32 * (i / (8 / vec))) +
                      (i % (8 / vec)) * vec;
              ASSERT_EQ(threadCode(words, i, bits),
                        codes[r * (cols / vec) + col / vec])
                  << vec << " " << bits << " " << r << " " << t << " " << i;
            }
          }
    }
}

/// A partial last chunk (quantizers.md 6.6): E = (vectors left) / 32 lanes,
/// lane w's vector c = g (8 / v) + i at column 1024 v k + 8 E g + 8 w + i v,
/// word w' of the lane at row word 32 b k + w' E + w.
TEST(SimtLayout, PartialChunks) {
  const int64_t rows = 3;
  for (unsigned vec : {1u, 2u}) {
    const unsigned bits = vec == 1 ? 5 : 9;
    const int64_t cols = (1024 + 96) * vec; // one full chunk, E = 3
    std::vector<uint16_t> codes = randomCodes(rows * cols / vec, bits, vec);
    auto packed = packLutSimt(codes, rows, cols, bits, vec);
    QPAL_ASSERT_OK(packed);
    const int64_t wordsPerRow = cols * bits / (32 * vec), lanes = 3;
    for (int64_t r = 0; r < rows; ++r)
      for (unsigned w = 0; w < lanes; ++w) {
        std::vector<uint32_t> words(bits);
        for (unsigned k = 0; k < bits; ++k)
          words[k] =
              wordAt(*packed, r * wordsPerRow + 32 * bits + k * lanes + w);
        for (unsigned c = 0; c < 32; ++c) {
          unsigned g = c / (8 / vec), i = c % (8 / vec);
          int64_t col = 1024 * vec + 8 * lanes * g + 8 * w + i * vec;
          ASSERT_EQ(threadCode(words, c, bits),
                    codes[r * (cols / vec) + col / vec]);
        }
      }
    auto unpacked = unpackLutSimt(*packed, rows, cols, bits, vec);
    QPAL_ASSERT_OK(unpacked);
    EXPECT_EQ(*unpacked, codes);
  }
}

/// Converting the tensor-core layout gives the SIMT packing of the codes.
TEST(SimtLayout, ConvertFromTensorCore) {
  const int64_t rows = 32, cols = 128;
  std::vector<uint16_t> codes = randomCodes(rows * cols / 2, 7, 3);
  auto tensorCore = packLutTensorCore(codes, rows, cols, 7, 2);
  QPAL_ASSERT_OK(tensorCore);
  auto simt = convertTensorCoreToSimt(*tensorCore, rows, cols, 7, 2);
  QPAL_ASSERT_OK(simt);
  EXPECT_EQ(*simt, *packLutSimt(codes, rows, cols, 7, 2));
}

TEST(SimtLayout, RejectsBadShapes) {
  std::vector<uint16_t> codes(4 * 32, 0);
  QPAL_EXPECT_CONTAINS(errorOf(packLutSimt(codes, 4, 32, 4, 2)),
                       "packLutSimt: expects K divisible by 64, got 32");
  QPAL_EXPECT_CONTAINS(errorOf(packLutSimt(codes, 4, 32, 17, 1)),
                       "expects 1..16 index bits, got 17");
  codes[3] = 300;
  QPAL_EXPECT_CONTAINS(errorOf(packLutSimt(codes, 4, 32, 8, 1)),
                       "code 300 at vector 3 does not fit in 8 bits");
  std::vector<uint8_t> bytes(5);
  QPAL_EXPECT_CONTAINS(errorOf(unpackLutSimt(bytes, 4, 32, 8, 1)),
                       "expects 128 bytes for a 4x32 matrix at 8 bits, got 5");
}

} // namespace
