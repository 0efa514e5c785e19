/*===- FakeStep.c - Entry points with a package's ABI, for tests -*- C -*-====*\
|*                                                                            *|
|* Part of the qpal project, under the Apache License v2.0 with LLVM          *|
|* Exceptions. See LICENSE for license information.                           *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* Stands in for a compiled model's "code.cpu" (qpalpkg.h's entry-point ABI)  *|
|* in PackageTest.cpp and the lit tests: no transformer, but a step whose     *|
|* logits depend on everything a runtime could get wrong. Token i of a call   *|
|* (position pos = position + i) writes row pos of every cache plane p:       *|
|*                                                                            *|
|*   cache[p][pos][w] = (arena[(7 token + 5 p + 3 w + SALT) % n] + 1) / 32    *|
|*                      + token / 8                                           *|
|*                                                                            *|
|* and, once every row of the call is written, its logits are                 *|
|*                                                                            *|
|*   logits[i][v] = sum over p, j <= pos, w of                                *|
|*                    cache[p][j][w] * weight(p, w, v) * (j + 1) / (pos + 1)  *|
|*                  + pos / 2 + v / 100 + SALT                                *|
|*   weight(p, w, v) = (arena[(11 v + 13 p + 17 w) % n] - 128) / 64 * (p + 1) *|
|*                                                                            *|
|* so a wrong position, cache plane or row, arena, or a chunking that skips   *|
|* or repeats tokens changes the numbers. A descriptor that is not what the   *|
|* ABI promises (sizes, row-major strides, alignment, room in the cache)      *|
|* turns every logit into NaN. When QPAL_FAKE_STEP_LOG names a file, every    *|
|* call appends "<batch> <position>" to it, so that tests see the chunking.   *|
|* Built twice: with SALT 0 and the entry points of batch 1 and 4, and with   *|
|* FAKE_STEP_SALT=1000 and FAKE_STEP_ONLY_B1. The formula's code is          *|
|* FakeStepFormula.h, which FakeGpuStep.c's kernels share.                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "FakeStepFormula.h"
#include "qpalpkg.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FAKE_STEP_SALT
#define FAKE_STEP_SALT 0
#endif

/// Appends "<batch> <position>" to the file QPAL_FAKE_STEP_LOG names, if any.
static void logCall(int64_t batch, int64_t position) {
  const char *path = getenv("QPAL_FAKE_STEP_LOG");
  FILE *log = path ? fopen(path, "a") : NULL;
  if (!log)
    return;
  fprintf(log, "%lld %lld\n", (long long)batch, (long long)position);
  fclose(log);
}

static void step(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
                 int64_t position, qpalpkgMemRef3D *cache,
                 qpalpkgMemRef2D *logits, int64_t batch) {
  float *out = (float *)logits->aligned;
  logCall(batch, position);
  if (!fakeStepDescriptorsValid(arena, tokens, position, cache, logits,
                                batch)) {
    int64_t count = logits->sizes[0] * logits->sizes[1];
    for (int64_t k = 0; k < count; ++k)
      out[k] = NAN;
    return;
  }
  fakeStepRows((const unsigned char *)arena->aligned, arena->sizes[0],
               (const int32_t *)tokens->aligned, position, batch,
               (float *)cache->aligned, cache->sizes[0], cache->sizes[1],
               cache->sizes[2], FAKE_STEP_SALT);
  fakeStepLogits((const unsigned char *)arena->aligned, arena->sizes[0],
                 position, batch, (const float *)cache->aligned,
                 cache->sizes[0], cache->sizes[1], cache->sizes[2], out,
                 logits->sizes[1], FAKE_STEP_SALT);
}

void _mlir_ciface_qpal_step_b1(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
                               int64_t position, qpalpkgMemRef3D *cache,
                               qpalpkgMemRef2D *logits) {
  step(arena, tokens, position, cache, logits, 1);
}

#ifndef FAKE_STEP_ONLY_B1
void _mlir_ciface_qpal_step_b4(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
                               int64_t position, qpalpkgMemRef3D *cache,
                               qpalpkgMemRef2D *logits) {
  step(arena, tokens, position, cache, logits, 4);
}
#endif
