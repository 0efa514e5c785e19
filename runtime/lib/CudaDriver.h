//===- CudaDriver.h - The slice of the CUDA driver API the runtime uses ---===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Private to the runtime. The runtime builds without the CUDA toolkit, so it
// declares the few driver types, constants and entry points it needs here,
// with the values of cuda.h (test/Unit/Runtime checks them against cuda.h
// where the toolkit is installed). The entry points are looked up with dlsym
// in libcuda.so.1 at run time.
//
//===----------------------------------------------------------------------===//

#ifndef QPALRT_LIB_CUDADRIVER_H
#define QPALRT_LIB_CUDADRIVER_H

#include <cstddef>

namespace qpalrt::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;
using CUjit_option = int;
using CUdevice_attribute = int;
using CUfunction_attribute = int;

enum : CUresult {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_NOT_FOUND = 500,
};

/// cuStreamCreate flags and cuStreamBeginCapture modes.
enum : unsigned {
  CU_STREAM_NON_BLOCKING = 1,
  CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
};

enum : CUjit_option {
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
  CU_JIT_OPTIMIZATION_LEVEL = 7,
};

/// cuEventCreate flags.
enum : unsigned {
  CU_EVENT_DISABLE_TIMING = 2,
};

enum : CUdevice_attribute {
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};

enum : CUfunction_attribute {
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};

/// Every required entry point: X(member, exported symbol, parameters). The
/// symbols are the versioned ones cuda.h's macros select (cuMemAlloc is
/// cuMemAlloc_v2, ...). All return CUresult.
#define QPALRT_CUDA_ENTRY_POINTS(X)                                            \
  X(cuInit, "cuInit", (unsigned int flags))                                    \
  X(cuGetErrorName, "cuGetErrorName", (CUresult error, const char **name))     \
  X(cuGetErrorString, "cuGetErrorString",                                      \
    (CUresult error, const char **string))                                     \
  X(cuDriverGetVersion, "cuDriverGetVersion", (int *version))                  \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *count))                        \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice * device, int ordinal))              \
  X(cuDeviceGetName, "cuDeviceGetName",                                        \
    (char *name, int length, CUdevice device))                                 \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute",                              \
    (int *value, CUdevice_attribute attribute, CUdevice device))               \
  X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", (size_t *bytes, CUdevice device)) \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",                      \
    (CUcontext * context, CUdevice device))                                    \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2",                 \
    (CUdevice device))                                                         \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext context))                   \
  X(cuCtxSynchronize, "cuCtxSynchronize", ())                                  \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx",                                  \
    (CUmodule * module, const void *image, unsigned int numOptions,            \
     CUjit_option *options, void **optionValues))                              \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule module))                       \
  X(cuModuleGetFunction, "cuModuleGetFunction",                                \
    (CUfunction * function, CUmodule module, const char *name))                \
  X(cuFuncSetAttribute, "cuFuncSetAttribute",                                  \
    (CUfunction function, CUfunction_attribute attribute, int value))          \
  X(cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr * pointer, size_t bytes))        \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr pointer))                          \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2",                                           \
    (CUdeviceptr dst, const void *src, size_t bytes))                          \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2",                                           \
    (void *dst, CUdeviceptr src, size_t bytes))                                \
  /* Unified addressing: either side may be device or host memory. */          \
  X(cuMemcpy, "cuMemcpy", (CUdeviceptr dst, CUdeviceptr src, size_t bytes))    \
  X(cuMemsetD32, "cuMemsetD32_v2",                                             \
    (CUdeviceptr dst, unsigned int value, size_t count))                       \
  X(cuMemsetD16, "cuMemsetD16_v2",                                             \
    (CUdeviceptr dst, unsigned short value, size_t count))                     \
  X(cuLaunchKernel, "cuLaunchKernel",                                          \
    (CUfunction function, unsigned int gridX, unsigned int gridY,              \
     unsigned int gridZ, unsigned int blockX, unsigned int blockY,             \
     unsigned int blockZ, unsigned int sharedBytes, CUstream stream,           \
     void **params, void **extra))                                             \
  X(cuEventCreate, "cuEventCreate", (CUevent * event, unsigned int flags))     \
  X(cuEventRecord, "cuEventRecord", (CUevent event, CUstream stream))          \
  X(cuEventSynchronize, "cuEventSynchronize", (CUevent event))                 \
  X(cuEventElapsedTime, "cuEventElapsedTime",                                  \
    (float *milliseconds, CUevent start, CUevent end))                         \
  X(cuEventDestroy, "cuEventDestroy_v2", (CUevent event))

/// Optional entry points (null when the driver lacks them).
#define QPALRT_CUDA_OPTIONAL_ENTRY_POINTS(X)                                   \
  /* CUDA 12.4: lets a launch check the kernel's parameter count. */           \
  X(cuFuncGetParamInfo, "cuFuncGetParamInfo",                                  \
    (CUfunction function, size_t index, size_t *offset, size_t *size))         \
  /* Graphs (CUDA 11.4), for timing short kernels without launch gaps. */      \
  X(cuStreamCreate, "cuStreamCreate", (CUstream * stream, unsigned flags))     \
  X(cuStreamDestroy, "cuStreamDestroy_v2", (CUstream stream))                  \
  X(cuStreamBeginCapture, "cuStreamBeginCapture_v2",                           \
    (CUstream stream, unsigned mode))                                          \
  X(cuStreamEndCapture, "cuStreamEndCapture",                                  \
    (CUstream stream, CUgraph * graph))                                        \
  X(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags",                \
    (CUgraphExec * exec, CUgraph graph, unsigned long long flags))             \
  X(cuGraphLaunch, "cuGraphLaunch", (CUgraphExec exec, CUstream stream))       \
  X(cuGraphExecDestroy, "cuGraphExecDestroy", (CUgraphExec exec))              \
  X(cuGraphDestroy, "cuGraphDestroy", (CUgraph graph))

/// The driver's entry points, looked up once per process.
struct Driver {
#define QPALRT_DECLARE_ENTRY_POINT(member, symbol, params)                     \
  CUresult(*member) params = nullptr;
  QPALRT_CUDA_ENTRY_POINTS(QPALRT_DECLARE_ENTRY_POINT)
  QPALRT_CUDA_OPTIONAL_ENTRY_POINTS(QPALRT_DECLARE_ENTRY_POINT)
#undef QPALRT_DECLARE_ENTRY_POINT
};

} // namespace qpalrt::cuda

#endif // QPALRT_LIB_CUDADRIVER_H
