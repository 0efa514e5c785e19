/*===- FakeGpuStep.c - An nvptx package's code, for tests ----------*- C
-*-===*\
|*                                                                            *|
|* Part of the qpal project, under the Apache License v2.0 with LLVM          *|
|* Exceptions. See LICENSE for license information.                           *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* Stands in for a compiled model's "code.nvptx": host code with FakeStep.c's *|
|* entry points that, like the code MLIR's gpu-to-llvm emits, reaches the GPU *|
|* only through the mgpu* functions (MLIR's CUDA runtime-wrapper ABI, which   *|
|* the runtime provides): a constructor loads the embedded PTX with           *|
|* mgpuModuleLoadJIT, a destructor unloads it, and a step creates a stream,   *|
|* allocates scratch, copies, launches, frees and synchronizes. Every pointer *|
|* it gets is a device address, which it never dereferences.                 *|
|*                                                                            *|
|* The PTX declares two kernels that the stand-in driver                      *|
|* (FakeCudaDriver.cpp) runs in C++, with FakeStep.c's formula                *|
|* (FakeStepFormula.h): qpal_fake_step_rows writes the cache rows,            *|
|* qpal_fake_step_logits the logits. Their bodies are empty: on a real GPU    *|
|* they compute nothing, so the tests use them with the stand-in only. The    *|
|* driver checks that every address is inside a device allocation, so a host *|
|* pointer in a descriptor fails the launch.                                  *|
|*                                                                            *|
|* A descriptor that is not what the ABI promises turns the logits into NaN   *|
|* (with mgpuMemset32). QPAL_FAKE_STEP_LOG logs the calls as FakeStep.c does, *|
|* and "unloaded" when the destructor runs.                                   *|
|* When QPAL_FAKE_GPU_STEP_FAULT is a position, the step that runs it passes  *|
|* a host address for the cache, so that its launch fails. Variants:          *|
|* FAKE_GPU_STEP_BAD_PTX embeds PTX the driver rejects,                       *|
|* FAKE_GPU_STEP_PTX_VERSION="99.0" PTX of a version it does not know, and    *|
|* FAKE_GPU_STEP_UNDEFINED calls an mgpu* function nobody defines.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "FakeStepFormula.h"
#include "qpalpkg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// The mgpu* functions, as mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp
// declares them.
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
#ifdef FAKE_GPU_STEP_UNDEFINED
void mgpuNoSuchFunction(void);
#endif

/// The threads per block and the dynamic shared memory of the logits kernel
/// (above the default 48 KiB, so the kernel must be opted in); the stand-in
/// driver checks both.
enum { kBlock = 64, kLogitsSharedBytes = 64 * 1024 };

#ifndef FAKE_GPU_STEP_PTX_VERSION
#define FAKE_GPU_STEP_PTX_VERSION "7.0"
#endif

// Not const: mgpuModuleLoadJIT takes a void *, as gpu-to-llvm's globals are.
static char kPtx[] =
    ".version " FAKE_GPU_STEP_PTX_VERSION "\n"
    ".target sm_80\n"
    ".address_size 64\n"
#ifdef FAKE_GPU_STEP_BAD_PTX
    ".visible .entry broken() { bogus.instruction; }\n"
#endif
    ".visible .entry qpal_fake_step_rows(.param .u64 arena,\n"
    "    .param .u64 arena_bytes, .param .u64 ids, .param .u64 position,\n"
    "    .param .u64 batch, .param .u64 cache, .param .u64 planes,\n"
    "    .param .u64 capacity, .param .u64 width)\n"
    "{\n  ret;\n}\n"
    ".visible .entry qpal_fake_step_logits(.param .u64 arena,\n"
    "    .param .u64 arena_bytes, .param .u64 position, .param .u64 batch,\n"
    "    .param .u64 cache, .param .u64 planes, .param .u64 capacity,\n"
    "    .param .u64 width, .param .u64 logits, .param .u64 vocab)\n"
    "{\n  ret;\n}\n";

/// What the constructor loaded; the kernels are looked up on every step, as
/// gpu-to-llvm's code does.
static void *module;

__attribute__((constructor)) static void loadKernels(void) {
#ifdef FAKE_GPU_STEP_UNDEFINED
  mgpuNoSuchFunction();
#endif
  module = mgpuModuleLoadJIT(kPtx, 2);
}

static void logLine(const char *line);

__attribute__((destructor)) static void unloadKernels(void) {
  mgpuModuleUnload(module);
  logLine("unloaded");
}

/// Appends `line` to the file QPAL_FAKE_STEP_LOG names, if any.
static void logLine(const char *line) {
  const char *path = getenv("QPAL_FAKE_STEP_LOG");
  FILE *log = path ? fopen(path, "a") : NULL;
  if (!log)
    return;
  fprintf(log, "%s\n", line);
  fclose(log);
}

/// Logs "<batch> <position>".
static void logCall(int64_t batch, int64_t position) {
  char line[64];
  snprintf(line, sizeof(line), "%lld %lld", (long long)batch,
           (long long)position);
  logLine(line);
}

/// Whether QPAL_FAKE_GPU_STEP_FAULT names a position in [first, last).
static int faultIn(int64_t first, int64_t last) {
  const char *fault = getenv("QPAL_FAKE_GPU_STEP_FAULT");
  if (!fault || !*fault)
    return 0;
  long long position = atoll(fault);
  return position >= first && position < last;
}

/// Launches `name` on `batch` blocks with `count` u64 parameters.
static void launch(const char *name, int64_t batch, uint64_t *args,
                   size_t count, int32_t sharedBytes, void *stream) {
  void *params[16];
  for (size_t i = 0; i < count; ++i)
    params[i] = &args[i];
  mgpuLaunchKernel(mgpuModuleGetFunction(module, name), batch, 1, 1, kBlock, 1,
                   1, sharedBytes, stream, params, NULL, count);
}

static void step(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
                 int64_t position, qpalpkgMemRef3D *cache,
                 qpalpkgMemRef2D *logits, int64_t batch) {
  logCall(batch, position);
  void *stream = mgpuStreamCreate();
  if (!fakeStepDescriptorsValid(arena, tokens, position, cache, logits,
                                batch)) {
    mgpuMemset32(logits->aligned, 0x7fc00000u, // NaN
                 (size_t)(logits->sizes[0] * logits->sizes[1]), stream);
    mgpuStreamSynchronize(stream);
    mgpuStreamDestroy(stream);
    return;
  }
  // The ids go through scratch of the step's own: a poisoned block that
  // the copy must overwrite.
  size_t idBytes = (size_t)batch * sizeof(int32_t);
  void *ids = mgpuMemAlloc(idBytes, stream, false);
  mgpuMemset32(ids, 0xffffffffu, (size_t)batch, stream);
  mgpuMemcpy(ids, tokens->aligned, idBytes, stream);

  uint64_t cacheAddress = (uint64_t)(uintptr_t)cache->aligned;
  if (faultIn(position, position + batch))
    cacheAddress = (uint64_t)(uintptr_t)&cacheAddress;
  uint64_t rows[] = {(uint64_t)(uintptr_t)arena->aligned,
                     (uint64_t)arena->sizes[0],
                     (uint64_t)(uintptr_t)ids,
                     (uint64_t)position,
                     (uint64_t)batch,
                     cacheAddress,
                     (uint64_t)cache->sizes[0],
                     (uint64_t)cache->sizes[1],
                     (uint64_t)cache->sizes[2]};
  launch("qpal_fake_step_rows", batch, rows, sizeof(rows) / sizeof(rows[0]), 0,
         stream);

  void *written = mgpuEventCreate();
  mgpuEventRecord(written, stream);
  mgpuStreamWaitEvent(stream, written);
  mgpuEventDestroy(written);

  uint64_t out[] = {(uint64_t)(uintptr_t)arena->aligned,
                    (uint64_t)arena->sizes[0],
                    (uint64_t)position,
                    (uint64_t)batch,
                    (uint64_t)(uintptr_t)cache->aligned,
                    (uint64_t)cache->sizes[0],
                    (uint64_t)cache->sizes[1],
                    (uint64_t)cache->sizes[2],
                    (uint64_t)(uintptr_t)logits->aligned,
                    (uint64_t)logits->sizes[1]};
  launch("qpal_fake_step_logits", batch, out, sizeof(out) / sizeof(out[0]),
         kLogitsSharedBytes, stream);

  mgpuMemFree(ids, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
}

void _mlir_ciface_qpal_step_b1(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
                               int64_t position, qpalpkgMemRef3D *cache,
                               qpalpkgMemRef2D *logits) {
  step(arena, tokens, position, cache, logits, 1);
}

void _mlir_ciface_qpal_step_b4(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
                               int64_t position, qpalpkgMemRef3D *cache,
                               qpalpkgMemRef2D *logits) {
  step(arena, tokens, position, cache, logits, 4);
}
