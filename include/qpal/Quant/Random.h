//===- Random.h - Portable seeded random numbers ----------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The random streams behind qpal's sign vectors, k-means samples and the
// distortion measurement. They are SplitMix64 (Steele, Lea and Flood,
// "Fast splittable pseudorandom number generators", OOPSLA 2014), which is
// fully specified by a 64-bit seed, so a seed names the same numbers on
// every platform. qpal does not clone PyTorch's `randn` stream: the
// reference's sign vectors cannot be regenerated bit for bit anyway
// (quantizers.md, section 3.1), and only their distribution matters.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_RANDOM_H
#define QPAL_QUANT_RANDOM_H

#include <cstdint>
#include <vector>

namespace qpal {

/// SplitMix64: state += 0x9E3779B97F4A7C15, output = mix(state).
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state(seed) {}

  /// Returns the next 64 random bits.
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  /// Returns a uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Returns a standard normal sample (Marsaglia's polar method; the second
  /// value of each pair is kept for the next call).
  double gaussian();

private:
  uint64_t state;
  double spare = 0;
  bool hasSpare = false;
};

/// Mixes a base seed with a stream index (a layer number, a quantizer
/// index), so that derived streams do not overlap.
uint64_t deriveSeed(uint64_t seed, uint64_t stream);

/// Returns `count` random ±1 signs: entry i is -1 when the top bit of the
/// i-th SplitMix64 output of `seed` is set, +1 otherwise.
std::vector<float> randomSigns(int64_t count, uint64_t seed);

/// Fills `out[0..count)` with i.i.d. N(0, 1) samples of SplitMix64(`seed`),
/// rounded to float.
void fillGaussian(float *out, int64_t count, uint64_t seed);

} // namespace qpal

#endif // QPAL_QUANT_RANDOM_H
