//===- FakeCudaDriver.cpp - A libcuda stand-in for GPU-less tests ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Exports the driver entry points the runtime uses, with "device" memory in
// host memory and the two kernels of CudaKernels.ptx written in C++. The
// RuntimeFakeCudaTests binary points $QPALRT_CUDA_DRIVER here, so that the
// CUDA backend's calls, parameter passing and error translation run on
// machines without a GPU. It checks what a real driver checks where the
// backend could get it wrong: pointers inside allocations, the current
// context, the shared memory opt-in, the parameter count.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

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
  size_t numParams;
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
constexpr size_t kVaddLength = 65536, kBlock = 256;

CUctx_st primary;
thread_local CUcontext current = nullptr;
/// Live allocations: start address -> size.
std::map<CUdeviceptr, size_t> allocations;

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
    return *value = 9, CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    return *value = 0, CUDA_SUCCESS;
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

CUresult cuCtxSynchronize() { return checkContext(); }

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned int numOptions, CUjit_option *options,
                            void **values) {
  if (CUresult result = checkContext())
    return result;
  std::string ptx = static_cast<const char *>(image);
  if (ptx.find("bogus") != std::string::npos) {
    char *log = nullptr;
    size_t size = 0;
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        log = static_cast<char *>(values[i]);
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        size = reinterpret_cast<uintptr_t>(values[i]);
    }
    if (log && size)
      std::snprintf(log, size,
                    "ptxas application ptx input, line 4; error   : Not a "
                    "name of any known instruction: 'bogus'\n");
    return CUDA_ERROR_INVALID_PTX;
  }
  *module = new CUmod_st{ptx, {}};
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
  if (CUresult result = checkContext())
    return result;
  delete module;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  if (CUresult result = checkContext())
    return result;
  if (module->ptx.find(std::string(".entry ") + name + "(") ==
      std::string::npos)
    return CUDA_ERROR_NOT_FOUND;
  size_t numParams = std::strcmp(name, "qpal_test_vadd") == 0 ? 3 : 2;
  module->functions.push_back(
      std::make_unique<CUfunc_st>(CUfunc_st{name, numParams}));
  *function = module->functions.back().get();
  return CUDA_SUCCESS;
}

CUresult cuFuncGetParamInfo(CUfunction function, size_t index, size_t *offset,
                            size_t *size) {
  if (index >= function->numParams)
    return CUDA_ERROR_INVALID_VALUE;
  *offset = index * sizeof(CUdeviceptr);
  *size = sizeof(CUdeviceptr);
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
  void *memory = bytes < (size_t(1) << 40) ? std::malloc(bytes) : nullptr;
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
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

CUresult cuLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, CUstream stream,
                        void **params, void **extra) {
  if (CUresult result = checkContext())
    return result;
  if (int(sharedBytes) > function->maxDynamicShared || stream || extra ||
      !params || gridY * gridZ * blockY * blockZ != 1 || blockX != kBlock)
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

} // extern "C"
