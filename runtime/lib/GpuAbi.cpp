//===- GpuAbi.cpp - MLIR's GPU runtime ABI over the CUDA driver -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The "mgpu*" functions that host code lowered by MLIR's gpu-to-llvm calls,
// with the signatures of mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp,
// implemented over the runtime's CUDA driver so that an nvptx package runs
// without MLIR's runtime library. They work on the calling thread's current
// package (GpuAbiScope), which the runtime sets around dlopen of the code
// (the code's constructor loads its PTX) and around every entry-point call.
//
// The functions return no status, so the first failure of a scope is
// recorded, with a message naming the mgpu* function, the driver call and
// the driver's error; every later call that would do work returns null and
// does nothing, and the runtime reports the failure when the code returns.
// Calls that only give something back (mgpuMemFree, the destroy and unload
// calls) still do so, so that a failed step leaks nothing.
//
// All work goes to the legacy default stream: mgpuStreamCreate returns it,
// so the code's work, the runtime's copies and every step are in order, and
// a block mgpuMemFree takes back can serve the next mgpuMemAlloc of its size
// right away. Blocks stay cached until the package is closed.
//
//===----------------------------------------------------------------------===//

#include "GpuAbi.h"

#include <cstdarg>
#include <cstdio>
#include <dlfcn.h>
#include <mutex>

using namespace qpalrt;
using namespace qpalrt::cuda;

namespace {

/// The default a kernel may use without opting in.
constexpr int32_t kDefaultSharedBytes = 48 * 1024;

thread_local GpuAbiState *current = nullptr;

/// Records a printf-style failure in `state` unless one is recorded.
__attribute__((format(printf, 3, 4))) void recordFailure(GpuAbiState &state,
                                                         qpalrtStatus status,
                                                         const char *format,
                                                         ...) {
  if (state.status != QPALRT_SUCCESS)
    return;
  va_list args;
  va_start(args, format);
  state.message = formatMessage(format, args);
  va_end(args);
  state.status = status;
}

/// Records `result` of driver call `call`, made by mgpu* function
/// `function`, if it failed; `subject`, when given, names what the call
/// was about. Returns whether it succeeded.
bool succeeded(GpuAbiState &state, CUresult result, const char *function,
               const char *call, const char *subject = nullptr) {
  if (result == CUDA_SUCCESS)
    return true;
  recordFailure(state, toStatus(result), "%s: %s failed%s%s%s: %s", function,
                call, subject ? " for '" : "", subject ? subject : "",
                subject ? "'" : "", describe(*state.cu, result).c_str());
  return false;
}

/// The state a call that does work uses: null outside every scope and after
/// a failure, when the call must do nothing.
GpuAbiState *active() {
  return current && current->status == QPALRT_SUCCESS ? current : nullptr;
}

CUdeviceptr toDevice(const void *pointer) {
  return CUdeviceptr(reinterpret_cast<uintptr_t>(pointer));
}

void *fromDevice(CUdeviceptr pointer) {
  return reinterpret_cast<void *>(uintptr_t(pointer));
}

/// The JIT's error log on one line: its lines joined by "; ".
std::string oneLine(const char *log) {
  std::string text;
  for (const char *c = log; *c; ++c) {
    if (*c != '\n') {
      text += *c;
      continue;
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    if (!text.empty() && c[1] != '\0')
      text += "; ";
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == ';'))
    text.pop_back();
  return text;
}

/// Loads a PTX (optLevel >= 0) or cubin image for mgpu* function
/// `function`.
void *loadModule(GpuAbiState &state, const char *function, const void *image,
                 int optLevel) {
  char log[8192] = "";
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log))),
                    reinterpret_cast<void *>(intptr_t(optLevel))};
  CUmodule module = nullptr;
  CUresult result = state.cu->cuModuleLoadDataEx(
      &module, image, optLevel >= 0 ? 3 : 2, options, values);
  if (result != CUDA_SUCCESS) {
    log[sizeof(log) - 1] = '\0';
    std::string jitLog = oneLine(log);
    recordFailure(state, toStatus(result),
                  "%s: cuModuleLoadDataEx failed: %s%s%s", function,
                  describe(*state.cu, result).c_str(),
                  jitLog.empty() ? "" : ": ", jitLog.c_str());
    return nullptr;
  }
  state.modules.insert(module);
  return module;
}

/// Allocates `bytes` of device memory, retrying once without the cache's
/// blocks if the device is full.
CUresult allocateDevice(GpuAbiState &state, size_t bytes,
                        CUdeviceptr *pointer) {
  CUresult result = state.cu->cuMemAlloc(pointer, bytes);
  if (result != CUDA_ERROR_OUT_OF_MEMORY || state.freeBlocks.empty())
    return result;
  for (const auto &[size, block] : state.freeBlocks)
    state.cu->cuMemFree(block);
  state.freeBlocks.clear();
  return state.cu->cuMemAlloc(pointer, bytes);
}

} // namespace

//===----------------------------------------------------------------------===//
// The runtime's side
//===----------------------------------------------------------------------===//

GpuAbiScope::GpuAbiScope(GpuAbiState &state) : state(state), previous(current) {
  current = &state;
  state.status = QPALRT_SUCCESS;
  state.message.clear();
  succeeded(state, state.cu->cuCtxSetCurrent(state.context), "qpalrt",
            "cuCtxSetCurrent");
}

GpuAbiScope::~GpuAbiScope() { current = previous; }

qpalrtStatus qpalrt::createGpuAbiState(qpalrtContext &context,
                                       std::unique_ptr<GpuAbiState> &out) {
  const Driver *cu = nullptr;
  if (qpalrtStatus s = getDriver(cu))
    return s;
  auto state = std::make_unique<GpuAbiState>();
  state->cu = cu;
  state->context = static_cast<CUcontext>(context.backend->nativeContext());
  if (!state->context)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "the mgpu* functions need a CUDA context");
  out = std::move(state);
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrt::releaseGpuAbiState(GpuAbiState &state) {
  GpuAbiScope scope(state);
  for (const auto &[bytes, block] : state.freeBlocks)
    succeeded(state, state.cu->cuMemFree(block), "qpalrt", "cuMemFree");
  for (const auto &[block, bytes] : state.liveBlocks)
    succeeded(state, state.cu->cuMemFree(block), "qpalrt", "cuMemFree");
  for (CUmodule module : state.modules)
    succeeded(state, state.cu->cuModuleUnload(module), "qpalrt",
              "cuModuleUnload");
  state.freeBlocks.clear();
  state.liveBlocks.clear();
  state.modules.clear();
  state.functions.clear();
  if (scope.status())
    return fail(scope.status(), "%s", scope.message().c_str());
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrt::zeroDeviceMemory(GpuAbiState &state, Address address,
                                      size_t bytes) {
  GpuAbiScope scope(state);
  if (!scope.status())
    succeeded(state, state.cu->cuMemsetD32(address, 0, bytes / 4), "qpalrt",
              "cuMemsetD32");
  if (scope.status())
    return fail(scope.status(), "%s", scope.message().c_str());
  return QPALRT_SUCCESS;
}

extern "C" void *mgpuModuleLoadJIT(void *data, int optLevel);

void qpalrt::exposeGpuAbi() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info info;
    if (!dladdr(reinterpret_cast<void *>(&mgpuModuleLoadJIT), &info) ||
        !info.dli_fname)
      return;
    // Promotes the object only if it is loaded; the reference it takes is
    // kept, as the object is anyway.
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  });
}

//===----------------------------------------------------------------------===//
// The mgpu* functions (C linkage, exported)
//===----------------------------------------------------------------------===//

#define QPALRT_GPU_ABI extern "C" __attribute__((visibility("default")))

QPALRT_GPU_ABI void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  GpuAbiState *state = active();
  return state ? loadModule(*state, "mgpuModuleLoad", data, -1) : nullptr;
}

QPALRT_GPU_ABI void *mgpuModuleLoadJIT(void *data, int optLevel) {
  GpuAbiState *state = active();
  if (!state)
    return nullptr;
  if (optLevel < 0) {
    recordFailure(*state, QPALRT_ERROR_INVALID_ARGUMENT,
                  "mgpuModuleLoadJIT: optimization level %d is negative",
                  optLevel);
    return nullptr;
  }
  return loadModule(*state, "mgpuModuleLoadJIT", data, optLevel);
}

QPALRT_GPU_ABI void mgpuModuleUnload(void *module) {
  GpuAbiState *state = current;
  auto handle = static_cast<CUmodule>(module);
  if (!state || !handle || !state->modules.erase(handle))
    return;
  for (auto it = state->functions.begin(); it != state->functions.end();)
    it = it->first.first == handle ? state->functions.erase(it) : ++it;
  succeeded(*state, state->cu->cuModuleUnload(handle), "mgpuModuleUnload",
            "cuModuleUnload");
}

QPALRT_GPU_ABI void *mgpuModuleGetFunction(void *module, const char *name) {
  GpuAbiState *state = active();
  if (!state)
    return nullptr;
  auto handle = static_cast<CUmodule>(module);
  if (!handle || !state->modules.count(handle) || !name) {
    recordFailure(*state, QPALRT_ERROR_INVALID_ARGUMENT,
                  "mgpuModuleGetFunction: '%s' looked up in %s",
                  name ? name : "(null)",
                  handle ? "a module the code did not load" : "no module");
    return nullptr;
  }
  std::unique_ptr<GpuFunction> &cached = state->functions[{handle, name}];
  if (cached)
    return cached.get();
  auto function = std::make_unique<GpuFunction>();
  function->name = name;
  if (!succeeded(
          *state,
          state->cu->cuModuleGetFunction(&function->handle, handle, name),
          "mgpuModuleGetFunction", "cuModuleGetFunction", name)) {
    state->functions.erase({handle, name});
    return nullptr;
  }
  if (state->cu->cuFuncGetParamInfo)
    for (int index = 0; index < 4096; ++index) {
      size_t offset = 0, size = 0;
      CUresult result = state->cu->cuFuncGetParamInfo(function->handle, index,
                                                      &offset, &size);
      if (result == CUDA_ERROR_INVALID_VALUE)
        function->arity = index;
      if (result != CUDA_SUCCESS)
        break; // Past the last parameter, or not knowable.
    }
  cached = std::move(function);
  return cached.get();
}

QPALRT_GPU_ABI void mgpuLaunchKernel(void *function, intptr_t gridX,
                                     intptr_t gridY, intptr_t gridZ,
                                     intptr_t blockX, intptr_t blockY,
                                     intptr_t blockZ, int32_t smem,
                                     void * /*stream*/, void **params,
                                     void **extra, size_t paramsCount) {
  GpuAbiState *state = active();
  if (!state)
    return;
  auto *kernel = static_cast<GpuFunction *>(function);
  if (!kernel) {
    recordFailure(*state, QPALRT_ERROR_INVALID_ARGUMENT,
                  "mgpuLaunchKernel: no kernel (its lookup failed)");
    return;
  }
  const char *name = kernel->name.c_str();
  intptr_t dims[] = {gridX, gridY, gridZ, blockX, blockY, blockZ};
  for (intptr_t dim : dims)
    if (dim < 1 || uintptr_t(dim) > UINT32_MAX) {
      recordFailure(*state, QPALRT_ERROR_INVALID_ARGUMENT,
                    "mgpuLaunchKernel: '%s' launched with grid (%lld, %lld, "
                    "%lld) and block (%lld, %lld, %lld)",
                    name, (long long)gridX, (long long)gridY, (long long)gridZ,
                    (long long)blockX, (long long)blockY, (long long)blockZ);
      return;
    }
  if (smem < 0) {
    recordFailure(*state, QPALRT_ERROR_INVALID_ARGUMENT,
                  "mgpuLaunchKernel: '%s' launched with %d bytes of dynamic "
                  "shared memory",
                  name, smem);
    return;
  }
  if (kernel->arity >= 0 && !extra && size_t(kernel->arity) != paramsCount) {
    recordFailure(*state, QPALRT_ERROR_INVALID_ARGUMENT,
                  "mgpuLaunchKernel: kernel '%s' takes %d parameters, "
                  "launched with %zu",
                  name, kernel->arity, paramsCount);
    return;
  }
  // As MLIR's wrappers: above the default, opt the kernel in first.
  if (smem > kDefaultSharedBytes && smem > kernel->sharedBytesOptIn) {
    if (!succeeded(*state,
                   state->cu->cuFuncSetAttribute(
                       kernel->handle,
                       CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem),
                   "mgpuLaunchKernel", "cuFuncSetAttribute", name))
      return;
    kernel->sharedBytesOptIn = smem;
  }
  succeeded(*state,
            state->cu->cuLaunchKernel(kernel->handle, unsigned(gridX),
                                      unsigned(gridY), unsigned(gridZ),
                                      unsigned(blockX), unsigned(blockY),
                                      unsigned(blockZ), unsigned(smem),
                                      /*stream=*/nullptr, params, extra),
            "mgpuLaunchKernel", "cuLaunchKernel", name);
}

QPALRT_GPU_ABI void *mgpuStreamCreate() {
  // The legacy default stream: see the file's header.
  return nullptr;
}

QPALRT_GPU_ABI void mgpuStreamDestroy(void * /*stream*/) {}

QPALRT_GPU_ABI void mgpuStreamSynchronize(void * /*stream*/) {
  if (GpuAbiState *state = active(); state && state->synchronizeStreams)
    succeeded(*state, state->cu->cuCtxSynchronize(), "mgpuStreamSynchronize",
              "cuCtxSynchronize");
}

QPALRT_GPU_ABI void mgpuStreamWaitEvent(void * /*stream*/, void * /*event*/) {
  // One in-order stream: whatever the event follows is done first anyway.
}

QPALRT_GPU_ABI void *mgpuEventCreate() {
  GpuAbiState *state = active();
  if (!state)
    return nullptr;
  CUevent event = nullptr;
  if (!succeeded(*state,
                 state->cu->cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
                 "mgpuEventCreate", "cuEventCreate"))
    return nullptr;
  return event;
}

QPALRT_GPU_ABI void mgpuEventDestroy(void *event) {
  if (GpuAbiState *state = current; state && event)
    succeeded(*state, state->cu->cuEventDestroy(static_cast<CUevent>(event)),
              "mgpuEventDestroy", "cuEventDestroy");
}

QPALRT_GPU_ABI void mgpuEventSynchronize(void *event) {
  if (GpuAbiState *state = active())
    succeeded(*state,
              state->cu->cuEventSynchronize(static_cast<CUevent>(event)),
              "mgpuEventSynchronize", "cuEventSynchronize");
}

QPALRT_GPU_ABI void mgpuEventRecord(void *event, void * /*stream*/) {
  if (GpuAbiState *state = active())
    succeeded(*state,
              state->cu->cuEventRecord(static_cast<CUevent>(event), nullptr),
              "mgpuEventRecord", "cuEventRecord");
}

QPALRT_GPU_ABI void *mgpuMemAlloc(uint64_t sizeBytes, void * /*stream*/,
                                  bool isHostShared) {
  GpuAbiState *state = active();
  if (!state || sizeBytes == 0)
    return nullptr;
  if (isHostShared) {
    recordFailure(*state, QPALRT_ERROR_UNSUPPORTED,
                  "mgpuMemAlloc: host-shared memory (%llu bytes) is not "
                  "supported by the qpal runtime",
                  (unsigned long long)sizeBytes);
    return nullptr;
  }
  size_t bytes = size_t(sizeBytes);
  CUdeviceptr pointer = 0;
  if (auto it = state->freeBlocks.find(bytes); it != state->freeBlocks.end()) {
    pointer = it->second;
    state->freeBlocks.erase(it);
  } else {
    CUresult result = allocateDevice(*state, bytes, &pointer);
    if (result != CUDA_SUCCESS) {
      recordFailure(*state, toStatus(result),
                    "mgpuMemAlloc: cuMemAlloc failed for %zu bytes: %s", bytes,
                    describe(*state->cu, result).c_str());
      return nullptr;
    }
  }
  state->liveBlocks[pointer] = bytes;
  return fromDevice(pointer);
}

QPALRT_GPU_ABI void mgpuMemFree(void *ptr, void * /*stream*/) {
  GpuAbiState *state = current;
  if (!state || !ptr)
    return;
  auto it = state->liveBlocks.find(toDevice(ptr));
  if (it == state->liveBlocks.end()) {
    recordFailure(*state, QPALRT_ERROR_INVALID_ARGUMENT,
                  "mgpuMemFree: %p was not allocated by mgpuMemAlloc", ptr);
    return;
  }
  state->freeBlocks.emplace(it->second, it->first);
  state->liveBlocks.erase(it);
}

QPALRT_GPU_ABI void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                               void * /*stream*/) {
  if (GpuAbiState *state = active(); state && sizeBytes)
    succeeded(*state,
              state->cu->cuMemcpy(toDevice(dst), toDevice(src), sizeBytes),
              "mgpuMemcpy", "cuMemcpy");
}

QPALRT_GPU_ABI void mgpuMemset32(void *dst, unsigned int value, size_t count,
                                 void * /*stream*/) {
  if (GpuAbiState *state = active(); state && count)
    succeeded(*state, state->cu->cuMemsetD32(toDevice(dst), value, count),
              "mgpuMemset32", "cuMemsetD32");
}

QPALRT_GPU_ABI void mgpuMemset16(void *dst, unsigned short value, size_t count,
                                 void * /*stream*/) {
  if (GpuAbiState *state = active(); state && count)
    succeeded(*state, state->cu->cuMemsetD16(toDevice(dst), value, count),
              "mgpuMemset16", "cuMemsetD16");
}

void qpalrt::runStep(GpuAbiState &state, const std::function<void()> &call) {
  state.synchronizeStreams = false;
  call();
  state.synchronizeStreams = true;
  if (state.status == QPALRT_SUCCESS)
    succeeded(state, state.cu->cuCtxSynchronize(), "the step's kernels",
              "cuCtxSynchronize");
}
