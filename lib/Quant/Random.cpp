//===- Random.cpp - Portable seeded random numbers ------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Random.h"

#include <cmath>

using namespace qpal;

double SplitMix64::gaussian() {
  if (hasSpare) {
    hasSpare = false;
    return spare;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double factor = std::sqrt(-2.0 * std::log(s) / s);
  spare = v * factor;
  hasSpare = true;
  return u * factor;
}

uint64_t qpal::deriveSeed(uint64_t seed, uint64_t stream) {
  // One SplitMix64 step from a state that depends on both inputs.
  SplitMix64 mix(seed ^
                 (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull));
  return mix.next();
}

std::vector<float> qpal::randomSigns(int64_t count, uint64_t seed) {
  std::vector<float> signs(count > 0 ? static_cast<size_t>(count) : 0);
  SplitMix64 rng(seed);
  for (float &sign : signs)
    sign = (rng.next() >> 63) ? -1.0f : 1.0f;
  return signs;
}

void qpal::fillGaussian(float *out, int64_t count, uint64_t seed) {
  SplitMix64 rng(seed);
  for (int64_t i = 0; i < count; ++i)
    out[i] = static_cast<float>(rng.gaussian());
}
