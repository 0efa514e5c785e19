//===- FakeCudaDriver.cpp - A libcuda stand-in for GPU-less tests ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Exports the driver entry points the runtime uses, with "device" memory in
// host memory (256-byte aligned, as cuMemAlloc's) and, written in C++, the
// two kernels of CudaKernels.ptx and the two of FakeGpuStep.c's PTX (the
// fake model's step, FakeStepFormula.h). The RuntimeFakeCudaTests binary and
// the nvptx lit tests point $QPALRT_CUDA_DRIVER here, so that the CUDA
// backend's calls, parameter passing and error translation, and the mgpu*
// functions of nvptx packages, run on machines without a GPU. It checks
// what a real driver checks where the runtime could get it wrong: pointers
// inside allocations (every address a kernel or a copy gets, so a host
// pointer where a device address belongs fails), the current context, the
// shared memory opt-in, the parameter count (parsed from the PTX), the JIT
// options. PTX containing "bogus" fails to JIT with a log, and ".version 99"
// is an unsupported PTX version. $QPAL_FAKE_CUDA_SM (e.g. 86) sets the
// compute capability (9.0 by default), and qpal_fake_cuda_stats() tells the
// tests what is allocated and loaded. Kernels it cannot run (a compiled
// model's) are checked against the GPU's launch limits and do nothing;
// $QPAL_FAKE_CUDA_LAUNCH_LOG names a file every launch ("name gx,gy,gz
// bx,by,bz params") and every cuCtxSynchronize ("synchronize") is appended
// to.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "FakeStepFormula.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace qpalrt::cuda;

struct qpalrt::cuda::CUctx_st {
  int references = 0;
};
struct qpalrt::cuda::CUfunc_st {
  std::string name;
  /// The size of each parameter, from the PTX.
  std::vector<size_t> paramSizes;
  int maxDynamicShared = 48 * 1024;
};
struct qpalrt::cuda::CUmod_st {
  std::string ptx;
  /// The functions looked up, which live as long as the module (as the
  /// driver's do).
  std::vector<std::unique_ptr<CUfunc_st>> functions;
};
struct qpalrt::cuda::CUevent_st {
  std::chrono::steady_clock::time_point time;
};

namespace {

constexpr CUresult kInvalidContext = 201;
constexpr CUresult kIllegalAddress = 700; // CUDA_ERROR_ILLEGAL_ADDRESS
constexpr size_t kVaddLength = 65536, kBlock = 256;
/// FakeGpuStep.c's launches: threads per block and the logits kernel's
/// dynamic shared memory.
constexpr unsigned kStepBlock = 64, kStepLogitsShared = 64 * 1024;

CUctx_st primary;
thread_local CUcontext current = nullptr;
/// Live allocations: start address -> size.
std::map<CUdeviceptr, size_t> allocations;
/// What qpal_fake_cuda_stats() reports.
long long liveModules = 0, memAllocCalls = 0, getFunctionCalls = 0;

/// Appends `line` to $QPAL_FAKE_CUDA_LAUNCH_LOG, if set.
void appendToLaunchLog(const char *line) {
  if (const char *log = std::getenv("QPAL_FAKE_CUDA_LAUNCH_LOG"))
    if (FILE *file = std::fopen(log, "a")) {
      std::fputs(line, file);
      std::fclose(file);
    }
}

/// Whether [pointer, pointer + bytes) lies in one allocation.
bool isDeviceRange(CUdeviceptr pointer, size_t bytes) {
  auto it = allocations.upper_bound(pointer);
  if (it == allocations.begin())
    return false;
  --it;
  return pointer - it->first + bytes <= it->second;
}

float *deviceFloats(void *param, size_t count) {
  CUdeviceptr pointer = *static_cast<CUdeviceptr *>(param);
  if (!isDeviceRange(pointer, count * sizeof(float)))
    return nullptr;
  return reinterpret_cast<float *>(pointer);
}

/// The u64 parameter `index` of a launch.
uint64_t u64(void **params, size_t index) {
  return *static_cast<uint64_t *>(params[index]);
}

/// The `bytes` of device memory at address parameter `index`, or null if
/// they are not inside one allocation.
template <typename T>
T *deviceArray(void **params, size_t index, uint64_t count) {
  CUdeviceptr pointer = u64(params, index);
  if (count > (uint64_t(1) << 40) / sizeof(T) ||
      !isDeviceRange(pointer, size_t(count * sizeof(T))))
    return nullptr;
  return reinterpret_cast<T *>(pointer);
}

/// The sizes of the parameters of `.entry name(...)` in `ptx`; false if
/// there is no such entry.
bool parseEntry(const std::string &ptx, const char *name,
                std::vector<size_t> &sizes) {
  size_t at = ptx.find(std::string(".entry ") + name + "(");
  if (at == std::string::npos)
    return false;
  size_t end = ptx.find(')', at);
  for (size_t param = ptx.find(".param", at); param < end;
       param = ptx.find(".param", param + 1)) {
    size_t type = ptx.find('.', param + 1);
    std::string kind = ptx.substr(type + 2, 2); // "64" of ".u64"
    sizes.push_back(kind == "64" ? 8 : kind == "32" ? 4 : kind == "16" ? 2 : 1);
  }
  return true;
}

/// The compute capability: $QPAL_FAKE_CUDA_SM, or 90.
int capability() {
  const char *sm = std::getenv("QPAL_FAKE_CUDA_SM");
  return sm && *sm ? std::atoi(sm) : 90;
}

/// FakeGpuStep.c's qpal_fake_step_rows(arena, arenaBytes, ids, position,
/// batch, cache, planes, capacity, width).
CUresult stepRows(void **params, unsigned gridX) {
  uint64_t n = u64(params, 1), position = u64(params, 3),
           batch = u64(params, 4), planes = u64(params, 6),
           capacity = u64(params, 7), width = u64(params, 8);
  if (gridX != batch || n == 0 || position + batch > capacity)
    return CUDA_ERROR_INVALID_VALUE;
  auto *arena = deviceArray<unsigned char>(params, 0, n);
  auto *ids = deviceArray<int32_t>(params, 2, batch);
  auto *cache = deviceArray<float>(params, 5, planes * capacity * width);
  if (!arena || !ids || !cache)
    return kIllegalAddress;
  fakeStepRows(arena, int64_t(n), ids, int64_t(position), int64_t(batch), cache,
               int64_t(planes), int64_t(capacity), int64_t(width), 0);
  return CUDA_SUCCESS;
}

/// FakeGpuStep.c's qpal_fake_step_logits(arena, arenaBytes, position, batch,
/// cache, planes, capacity, width, logits, vocab).
CUresult stepLogits(void **params, unsigned gridX, unsigned sharedBytes) {
  uint64_t n = u64(params, 1), position = u64(params, 2),
           batch = u64(params, 3), planes = u64(params, 5),
           capacity = u64(params, 6), width = u64(params, 7),
           vocab = u64(params, 9);
  if (gridX != batch || sharedBytes != kStepLogitsShared || n == 0 ||
      position + batch > capacity)
    return CUDA_ERROR_INVALID_VALUE;
  auto *arena = deviceArray<unsigned char>(params, 0, n);
  auto *cache = deviceArray<float>(params, 4, planes * capacity * width);
  auto *logits = deviceArray<float>(params, 8, batch * vocab);
  if (!arena || !cache || !logits)
    return kIllegalAddress;
  fakeStepLogits(arena, int64_t(n), int64_t(position), int64_t(batch), cache,
                 int64_t(planes), int64_t(capacity), int64_t(width), logits,
                 int64_t(vocab), 0);
  return CUDA_SUCCESS;
}

} // namespace

extern "C" {

CUresult cuInit(unsigned int) { return CUDA_SUCCESS; }

CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case CUDA_ERROR_INVALID_VALUE:
    return *name = "CUDA_ERROR_INVALID_VALUE", CUDA_SUCCESS;
  case CUDA_ERROR_OUT_OF_MEMORY:
    return *name = "CUDA_ERROR_OUT_OF_MEMORY", CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    return *name = "CUDA_ERROR_INVALID_PTX", CUDA_SUCCESS;
  case CUDA_ERROR_NOT_FOUND:
    return *name = "CUDA_ERROR_NOT_FOUND", CUDA_SUCCESS;
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return *name = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", CUDA_SUCCESS;
  case kIllegalAddress:
    return *name = "CUDA_ERROR_ILLEGAL_ADDRESS", CUDA_SUCCESS;
  }
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult error, const char **string) {
  switch (error) {
  case CUDA_ERROR_INVALID_VALUE:
    return *string = "invalid argument", CUDA_SUCCESS;
  case CUDA_ERROR_OUT_OF_MEMORY:
    return *string = "out of memory", CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    return *string = "a PTX JIT compilation failed", CUDA_SUCCESS;
  case CUDA_ERROR_NOT_FOUND:
    return *string = "named symbol not found", CUDA_SUCCESS;
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return *string = "the provided PTX was compiled with an unsupported "
                     "toolchain.",
           CUDA_SUCCESS;
  case kIllegalAddress:
    return *string = "an illegal memory access was encountered", CUDA_SUCCESS;
  }
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuDriverGetVersion(int *version) {
  *version = 12080;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? CUDA_SUCCESS : 101; // CUDA_ERROR_INVALID_DEVICE
}

CUresult cuDeviceGetName(char *name, int length, CUdevice) {
  std::snprintf(name, size_t(length), "qpal fake GPU");
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute,
                              CUdevice) {
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    return *value = 132, CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE:
    return *value = 50 << 20, CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    return *value = capability() / 10, CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    return *value = capability() % 10, CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    return *value = 227 << 10, CUDA_SUCCESS;
  }
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice) {
  *bytes = size_t(80) << 30;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice) {
  ++primary.references;
  *context = &primary;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice) {
  return primary.references-- > 0 ? CUDA_SUCCESS : kInvalidContext;
}

CUresult cuCtxSetCurrent(CUcontext context) {
  current = context;
  return CUDA_SUCCESS;
}

/// Every call below needs the retained primary context to be current.
static CUresult checkContext() {
  return current == &primary && primary.references > 0 ? CUDA_SUCCESS
                                                       : kInvalidContext;
}

CUresult cuCtxSynchronize() {
  if (CUresult result = checkContext())
    return result;
  appendToLaunchLog("synchronize\n");
  return CUDA_SUCCESS;
}

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned int numOptions, CUjit_option *options,
                            void **values) {
  if (CUresult result = checkContext())
    return result;
  std::string ptx = static_cast<const char *>(image);
  char *log = nullptr;
  size_t size = 0;
  for (unsigned i = 0; i < numOptions; ++i) {
    if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
      log = static_cast<char *>(values[i]);
    else if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
      size = reinterpret_cast<uintptr_t>(values[i]);
    else if (options[i] != CU_JIT_OPTIMIZATION_LEVEL ||
             reinterpret_cast<uintptr_t>(values[i]) > 4)
      return CUDA_ERROR_INVALID_VALUE;
  }
  if (ptx.find(".version 99") != std::string::npos)
    return CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
  if (ptx.find("bogus") != std::string::npos) {
    if (log && size)
      std::snprintf(log, size,
                    "ptxas application ptx input, line 4; error   : Not a "
                    "name of any known instruction: 'bogus'\n");
    return CUDA_ERROR_INVALID_PTX;
  }
  *module = new CUmod_st{ptx, {}};
  ++liveModules;
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
  if (CUresult result = checkContext())
    return result;
  delete module;
  --liveModules;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  if (CUresult result = checkContext())
    return result;
  ++getFunctionCalls;
  std::vector<size_t> paramSizes;
  if (!module || !parseEntry(module->ptx, name, paramSizes))
    return CUDA_ERROR_NOT_FOUND;
  module->functions.push_back(
      std::make_unique<CUfunc_st>(CUfunc_st{name, paramSizes}));
  *function = module->functions.back().get();
  return CUDA_SUCCESS;
}

CUresult cuFuncGetParamInfo(CUfunction function, size_t index, size_t *offset,
                            size_t *size) {
  if (index >= function->paramSizes.size())
    return CUDA_ERROR_INVALID_VALUE;
  *offset = 0;
  for (size_t i = 0; i < index; ++i)
    *offset += function->paramSizes[i];
  *size = function->paramSizes[index];
  return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute,
                            int value) {
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES ||
      value > 227 << 10)
    return CUDA_ERROR_INVALID_VALUE;
  function->maxDynamicShared = value;
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  if (CUresult result = checkContext())
    return result;
  size_t rounded = (bytes + 255) / 256 * 256;
  void *memory = bytes > 0 && bytes < (size_t(1) << 40)
                     ? std::aligned_alloc(256, rounded)
                     : nullptr;
  if (!memory)
    return bytes ? CUDA_ERROR_OUT_OF_MEMORY : CUDA_ERROR_INVALID_VALUE;
  // Not zero, as a GPU's is not, but the same on every run: NaN floats, so
  // that memory read before it is written shows.
  std::memset(memory, 0xff, rounded);
  ++memAllocCalls;
  *pointer = reinterpret_cast<uintptr_t>(memory);
  allocations[*pointer] = bytes;
  return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
  if (CUresult result = checkContext())
    return result;
  if (!allocations.erase(pointer))
    return CUDA_ERROR_INVALID_VALUE;
  std::free(reinterpret_cast<void *>(pointer));
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
  if (CUresult result = checkContext())
    return result;
  if (!isDeviceRange(dst, bytes))
    return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  if (CUresult result = checkContext())
    return result;
  if (!isDeviceRange(src, bytes))
    return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  if (CUresult result = checkContext())
    return result;
  // Unified addressing would take host memory too; the runtime passes only
  // device memory, so anything else is a mistake worth catching.
  if (!isDeviceRange(dst, bytes) || !isDeviceRange(src, bytes))
    return CUDA_ERROR_INVALID_VALUE;
  std::memmove(reinterpret_cast<void *>(dst),
               reinterpret_cast<const void *>(src), bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t count) {
  if (CUresult result = checkContext())
    return result;
  if (dst % 4 != 0 || !isDeviceRange(dst, count * 4))
    return CUDA_ERROR_INVALID_VALUE;
  auto *words = reinterpret_cast<uint32_t *>(dst);
  for (size_t i = 0; i < count; ++i)
    words[i] = value;
  return CUDA_SUCCESS;
}

CUresult cuMemsetD16_v2(CUdeviceptr dst, unsigned short value, size_t count) {
  if (CUresult result = checkContext())
    return result;
  if (dst % 2 != 0 || !isDeviceRange(dst, count * 2))
    return CUDA_ERROR_INVALID_VALUE;
  auto *halves = reinterpret_cast<uint16_t *>(dst);
  for (size_t i = 0; i < count; ++i)
    halves[i] = value;
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, CUstream stream,
                        void **params, void **extra) {
  if (CUresult result = checkContext())
    return result;
  if (int(sharedBytes) > function->maxDynamicShared || stream || extra ||
      !params)
    return CUDA_ERROR_INVALID_VALUE;
  // The limits of every NVIDIA GPU since sm_30.
  if (gridX < 1 || gridX > 0x7fffffffu || gridY < 1 || gridY > 65535 ||
      gridZ < 1 || gridZ > 65535 || blockX < 1 || blockX > 1024 || blockY < 1 ||
      blockY > 1024 || blockZ < 1 || blockZ > 64 ||
      uint64_t(blockX) * blockY * blockZ > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  char line[512];
  std::snprintf(line, sizeof(line), "%s %u,%u,%u %u,%u,%u %zu\n",
                function->name.c_str(), gridX, gridY, gridZ, blockX, blockY,
                blockZ, function->paramSizes.size());
  appendToLaunchLog(line);
  // Kernels this driver cannot run (a compiled model's): the launch is
  // checked (geometry, shared memory, and the parameter count, by the
  // runtime against the PTX) and logged, and does nothing.
  bool known = function->name == "qpal_fake_step_rows" ||
               function->name == "qpal_fake_step_logits" ||
               function->name == "qpal_test_vadd" ||
               function->name == "qpal_test_reverse_smem";
  if (!known)
    return CUDA_SUCCESS;
  if (gridY * gridZ * blockY * blockZ != 1)
    return CUDA_ERROR_INVALID_VALUE;
  if (function->name == "qpal_fake_step_rows")
    return blockX == kStepBlock ? stepRows(params, gridX)
                                : CUDA_ERROR_INVALID_VALUE;
  if (function->name == "qpal_fake_step_logits")
    return blockX == kStepBlock ? stepLogits(params, gridX, sharedBytes)
                                : CUDA_ERROR_INVALID_VALUE;
  if (blockX != kBlock)
    return CUDA_ERROR_INVALID_VALUE;
  size_t threads = size_t(gridX) * blockX;
  if (function->name == "qpal_test_vadd") {
    float *a = deviceFloats(params[0], kVaddLength);
    float *b = deviceFloats(params[1], kVaddLength);
    float *c = deviceFloats(params[2], kVaddLength);
    if (!a || !b || !c)
      return 700; // CUDA_ERROR_ILLEGAL_ADDRESS
    for (size_t i = 0; i < threads && i < kVaddLength; ++i)
      c[i] = a[i] + 2.0f * b[i];
    return CUDA_SUCCESS;
  }
  // qpal_test_reverse_smem: shared memory up to 60 KiB + 4 * 256 bytes.
  float *in = deviceFloats(params[0], threads);
  float *out = deviceFloats(params[1], threads);
  if (!in || !out || sharedBytes < 61440 + 4 * kBlock)
    return 700;
  for (size_t i = 0; i < threads; ++i)
    out[i] = in[i / kBlock * kBlock + kBlock - 1 - i % kBlock];
  return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent *event, unsigned int) {
  *event = new CUevent_st{};
  return checkContext();
}

CUresult cuEventRecord(CUevent event, CUstream) {
  event->time = std::chrono::steady_clock::now();
  return checkContext();
}

CUresult cuEventSynchronize(CUevent) { return checkContext(); }

CUresult cuEventElapsedTime(float *milliseconds, CUevent start, CUevent end) {
  *milliseconds =
      std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return CUDA_SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent event) {
  delete event;
  return CUDA_SUCCESS;
}

/// For the tests: the modules loaded, the live allocations, and how often
/// cuMemAlloc and cuModuleGetFunction were called.
void qpal_fake_cuda_stats(long long *modules, long long *allocationCount,
                          long long *allocCalls, long long *lookups) {
  *modules = liveModules;
  *allocationCount = (long long)allocations.size();
  *allocCalls = memAllocCalls;
  *lookups = getFunctionCalls;
}

} // extern "C"
