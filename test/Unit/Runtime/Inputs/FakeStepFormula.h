/*===- FakeStepFormula.h - The fake model's step, in C -------------*- C
-*-===*\
|*                                                                            *|
|* Part of the qpal project, under the Apache License v2.0 with LLVM          *|
|* Exceptions. See LICENSE for license information.                           *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* The two halves of the fake model's step (the formula in FakeStep.c's       *|
|* header), on plain arrays: FakeStep.c calls them on the host, and the       *|
|* stand-in CUDA driver (FakeCudaDriver.cpp) runs them as the kernels of      *|
|* FakeGpuStep.c, so that the CPU and the nvptx fake packages compute the     *|
|* same logits. The tests check both against independent evaluations         *|
|* (PackageTestUtils.h, test/Runtime/Inputs/fake_model.py).                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QPAL_TEST_UNIT_RUNTIME_INPUTS_FAKESTEPFORMULA_H
#define QPAL_TEST_UNIT_RUNTIME_INPUTS_FAKESTEPFORMULA_H

#include "qpalpkg.h"

#include <stdint.h>

/// Writes rows [position, position + batch) of every plane of `rows` (f32
/// [planes][capacity][width]) for the token ids `ids`; `arena` holds `n`
/// bytes.
static inline void fakeStepRows(const unsigned char *arena, int64_t n,
                                const int32_t *ids, int64_t position,
                                int64_t batch, float *rows, int64_t planes,
                                int64_t capacity, int64_t width, int64_t salt) {
  for (int64_t i = 0; i < batch; ++i) {
    int64_t pos = position + i, token = ids[i];
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t w = 0; w < width; ++w)
        rows[(p * capacity + pos) * width + w] =
            (float)(arena[(7 * token + 5 * p + 3 * w + salt) % n] + 1) / 32.0f +
            (float)token / 8.0f;
  }
}

/// Writes the logits (f32 [batch][vocab]) of the tokens at positions
/// [position, position + batch), once their rows are written.
static inline void fakeStepLogits(const unsigned char *arena, int64_t n,
                                  int64_t position, int64_t batch,
                                  const float *rows, int64_t planes,
                                  int64_t capacity, int64_t width, float *out,
                                  int64_t vocab, int64_t salt) {
  for (int64_t i = 0; i < batch; ++i) {
    int64_t pos = position + i;
    for (int64_t v = 0; v < vocab; ++v) {
      double sum = 0.0;
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t j = 0; j <= pos; ++j)
          for (int64_t w = 0; w < width; ++w) {
            double weight =
                ((double)arena[(11 * v + 13 * p + 17 * w) % n] - 128.0) / 64.0 *
                (double)(p + 1);
            sum += (double)rows[(p * capacity + j) * width + w] * weight *
                   (double)(j + 1) / (double)(pos + 1);
          }
      out[i * vocab + v] =
          (float)(sum + (double)pos / 2.0 + (double)v / 100.0 + (double)salt);
    }
  }
}

static inline int fakeStepAligned64(const void *pointer) {
  return ((uintptr_t)pointer & 63u) == 0;
}

/// Whether the descriptors are what the ABI promises for `batch` tokens
/// (a runtime passes each buffer's start as both of its pointers).
static inline int fakeStepDescriptorsValid(const qpalpkgMemRef1D *arena,
                                           const qpalpkgMemRef1D *tokens,
                                           int64_t position,
                                           const qpalpkgMemRef3D *cache,
                                           const qpalpkgMemRef2D *logits,
                                           int64_t batch) {
  if (arena->offset != 0 || arena->sizes[0] < 1 || arena->strides[0] != 1 ||
      arena->allocated != arena->aligned || !fakeStepAligned64(arena->aligned))
    return 0;
  if (tokens->offset != 0 || tokens->sizes[0] != batch ||
      tokens->strides[0] != 1 || tokens->allocated != tokens->aligned)
    return 0;
  if (cache->offset != 0 || cache->sizes[0] < 1 || cache->sizes[1] < 1 ||
      cache->sizes[2] < 1 ||
      cache->strides[0] != cache->sizes[1] * cache->sizes[2] ||
      cache->strides[1] != cache->sizes[2] || cache->strides[2] != 1 ||
      cache->allocated != cache->aligned || !fakeStepAligned64(cache->aligned))
    return 0;
  if (position < 0 || position + batch > cache->sizes[1])
    return 0;
  if (logits->offset != 0 || logits->sizes[0] != batch ||
      logits->sizes[1] < 1 || logits->strides[0] != logits->sizes[1] ||
      logits->strides[1] != 1 || logits->allocated != logits->aligned ||
      !fakeStepAligned64(logits->aligned))
    return 0;
  return 1;
}

#endif // QPAL_TEST_UNIT_RUNTIME_INPUTS_FAKESTEPFORMULA_H
