//===- CudaBackend.cpp - Kernels on a GPU through the CUDA driver ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The driver library is opened with dlopen on first use (libcuda.so.1, or
// the file named by $QPALRT_CUDA_DRIVER), so the runtime builds and runs on
// machines without CUDA. Every CUresult is checked and turned into a status
// and a message naming the call and the driver's error name and text.
// Contexts are the devices' primary contexts; work goes to the legacy
// default stream.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"
#include "CudaDriver.h"
#include "GpuAbi.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

using namespace qpalrt;
using namespace qpalrt::cuda;

namespace {

/// The result of loading the driver, kept for the life of the process.
struct DriverLoad {
  Driver driver;
  qpalrtStatus status = QPALRT_SUCCESS;
  std::string message;
};

} // namespace

qpalrtStatus qpalrt::cuda::toStatus(CUresult result) {
  switch (result) {
  case CUDA_SUCCESS:
    return QPALRT_SUCCESS;
  case CUDA_ERROR_INVALID_VALUE:
    return QPALRT_ERROR_INVALID_ARGUMENT;
  case CUDA_ERROR_OUT_OF_MEMORY:
    return QPALRT_ERROR_OUT_OF_MEMORY;
  case CUDA_ERROR_NO_DEVICE:
    return QPALRT_ERROR_NO_DEVICE;
  case CUDA_ERROR_INVALID_IMAGE:
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
  case CUDA_ERROR_INVALID_PTX:
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return QPALRT_ERROR_FORMAT;
  case CUDA_ERROR_NOT_FOUND:
    return QPALRT_ERROR_NOT_FOUND;
  default:
    return QPALRT_ERROR_DRIVER;
  }
}

std::string qpalrt::cuda::describe(const Driver &cu, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (cu.cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    return "CUDA error " + std::to_string(result);
  std::string description = name;
  if (cu.cuGetErrorString(result, &text) == CUDA_SUCCESS && text)
    description += std::string(" (") + text + ")";
  return description;
}

namespace {

/// Turns `result` of driver call `call` into a status; `subject`, when
/// given, names what the call was about (a kernel, a size).
qpalrtStatus check(const Driver &cu, CUresult result, const char *call,
                   const char *subject = nullptr) {
  if (result == CUDA_SUCCESS)
    return QPALRT_SUCCESS;
  return fail(toStatus(result), "%s failed%s%s%s: %s", call,
              subject ? " for '" : "", subject ? subject : "",
              subject ? "'" : "", describe(cu, result).c_str());
}

/// Opens the driver and looks up every entry point.
void loadDriver(DriverLoad &load) {
  const char *override = std::getenv("QPALRT_CUDA_DRIVER");
  const char *names[] = {"libcuda.so.1", "libcuda.so"};
  void *library = nullptr;
  std::string firstError;
  for (const char *name : names) {
    const char *candidate = override && *override ? override : name;
    library = dlopen(candidate, RTLD_NOW | RTLD_LOCAL);
    if (library)
      break;
    if (firstError.empty())
      firstError = dlerror();
    if (override && *override)
      break;
  }
  if (!library) {
    load.status = QPALRT_ERROR_NO_DEVICE;
    load.message = std::string("no CUDA driver (") +
                   (override && *override ? override : "libcuda.so.1") +
                   " not found): " + firstError;
    return;
  }
  Driver &cu = load.driver;
#define QPALRT_LOOKUP_ENTRY_POINT(member, symbol, params)                      \
  cu.member = reinterpret_cast<decltype(cu.member)>(dlsym(library, symbol));   \
  if (!cu.member) {                                                            \
    load.status = QPALRT_ERROR_DRIVER;                                         \
    load.message = "the CUDA driver lacks the entry point " symbol;            \
    return;                                                                    \
  }
  QPALRT_CUDA_ENTRY_POINTS(QPALRT_LOOKUP_ENTRY_POINT)
#undef QPALRT_LOOKUP_ENTRY_POINT
#define QPALRT_LOOKUP_OPTIONAL_ENTRY_POINT(member, symbol, params)             \
  cu.member = reinterpret_cast<decltype(cu.member)>(dlsym(library, symbol));
  QPALRT_CUDA_OPTIONAL_ENTRY_POINTS(QPALRT_LOOKUP_OPTIONAL_ENTRY_POINT)
#undef QPALRT_LOOKUP_OPTIONAL_ENTRY_POINT
  CUresult result = cu.cuInit(0);
  if (result != CUDA_SUCCESS) {
    load.status = result == CUDA_ERROR_NO_DEVICE ? QPALRT_ERROR_NO_DEVICE
                                                 : QPALRT_ERROR_DRIVER;
    load.message = "cuInit failed: " + describe(cu, result);
  }
}

} // namespace

qpalrtStatus qpalrt::cuda::getDriver(const Driver *&cu) {
  static DriverLoad load;
  static std::once_flag once;
  std::call_once(once, [] { loadDriver(load); });
  if (load.status != QPALRT_SUCCESS)
    return fail(load.status, "%s", load.message.c_str());
  cu = &load.driver;
  return QPALRT_SUCCESS;
}

namespace {

/// Two events that destroy themselves.
struct EventPair {
  const Driver &cu;
  CUevent start = nullptr, stop = nullptr;
  ~EventPair() {
    if (start)
      cu.cuEventDestroy(start);
    if (stop)
      cu.cuEventDestroy(stop);
  }
};

/// A stream and a captured graph, released in reverse order.
struct GraphResources {
  const Driver &cu;
  CUstream stream = nullptr;
  CUgraph graph = nullptr;
  CUgraphExec exec = nullptr;
  ~GraphResources() {
    if (exec)
      cu.cuGraphExecDestroy(exec);
    if (graph)
      cu.cuGraphDestroy(graph);
    if (stream)
      cu.cuStreamDestroy(stream);
  }
};

class CudaBackend final : public Backend {
public:
  CudaBackend(const Driver &cu, CUdevice device, CUcontext context)
      : cu(cu), device(device), context(context) {}
  ~CudaBackend() override { cu.cuDevicePrimaryCtxRelease(device); }

  qpalrtStatus getDeviceInfo(qpalrtDeviceInfo &info) override {
    const CUdevice_attribute attributes[] = {
        CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
        CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
        CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
        CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
        CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE};
    int values[5] = {};
    for (int i = 0; i < 5; ++i)
      if (qpalrtStatus s = check(
              cu, cu.cuDeviceGetAttribute(&values[i], attributes[i], device),
              "cuDeviceGetAttribute"))
        return s;
    size_t memory = 0;
    if (qpalrtStatus s =
            check(cu, cu.cuDeviceGetName(info.name, sizeof(info.name), device),
                  "cuDeviceGetName"))
      return s;
    if (qpalrtStatus s =
            check(cu, cu.cuDeviceTotalMem(&memory, device), "cuDeviceTotalMem"))
      return s;
    if (qpalrtStatus s = check(cu, cu.cuDriverGetVersion(&info.driverVersion),
                               "cuDriverGetVersion"))
      return s;
    info.multiprocessorCount = values[0];
    info.computeCapabilityMajor = values[1];
    info.computeCapabilityMinor = values[2];
    info.maxSharedMemoryPerBlock = uint64_t(values[3]);
    info.l2CacheBytes = uint64_t(values[4]);
    info.totalMemoryBytes = memory;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus loadModule(const void *data, size_t size,
                          qpalrtModuleFormat /*format*/, const char *path,
                          void **module) override {
    if (qpalrtStatus s = bind())
      return s;
    // The driver tells PTX from cubin and fatbinary images itself. A copy is
    // NUL-terminated (PTX needs it) and malloc-aligned (images).
    std::string image(static_cast<const char *>(data), size);
    char log[16384] = "";
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                              CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log)))};
    CUmodule handle = nullptr;
    CUresult result =
        cu.cuModuleLoadDataEx(&handle, image.c_str(), 2, options, values);
    if (result == CUDA_SUCCESS) {
      *module = handle;
      return QPALRT_SUCCESS;
    }
    log[sizeof(log) - 1] = '\0';
    std::string jitLog = log;
    while (!jitLog.empty() && (jitLog.back() == '\n' || jitLog.back() == ' '))
      jitLog.pop_back();
    return fail(toStatus(result), "cuModuleLoadDataEx failed for '%s': %s%s%s",
                path ? path : "<memory>", describe(cu, result).c_str(),
                jitLog.empty() ? "" : ": ", jitLog.c_str());
  }

  qpalrtStatus unloadModule(void *module) override {
    if (qpalrtStatus s = bind())
      return s;
    return check(cu, cu.cuModuleUnload(static_cast<CUmodule>(module)),
                 "cuModuleUnload");
  }

  qpalrtStatus getFunction(void *module, const char *name,
                           const std::string &moduleName,
                           void **function) override {
    if (qpalrtStatus s = bind())
      return s;
    CUfunction handle = nullptr;
    CUresult result =
        cu.cuModuleGetFunction(&handle, static_cast<CUmodule>(module), name);
    if (result == CUDA_ERROR_NOT_FOUND)
      return fail(QPALRT_ERROR_NOT_FOUND,
                  "function '%s' not found in module '%s'", name,
                  moduleName.c_str());
    if (qpalrtStatus s = check(cu, result, "cuModuleGetFunction", name))
      return s;
    *function = handle;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus allocate(size_t bytes, Address *address) override {
    if (qpalrtStatus s = bind())
      return s;
    CUdeviceptr pointer = 0;
    CUresult result = cu.cuMemAlloc(&pointer, bytes);
    if (result != CUDA_SUCCESS)
      return fail(toStatus(result), "cuMemAlloc failed for %zu bytes: %s",
                  bytes, describe(cu, result).c_str());
    *address = pointer;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus deallocate(Address address) override {
    if (qpalrtStatus s = bind())
      return s;
    return check(cu, cu.cuMemFree(address), "cuMemFree");
  }

  qpalrtStatus upload(Address dst, const void *src, size_t bytes) override {
    if (qpalrtStatus s = bind())
      return s;
    return check(cu, cu.cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
  }

  qpalrtStatus download(void *dst, Address src, size_t bytes) override {
    if (qpalrtStatus s = bind())
      return s;
    return check(cu, cu.cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
  }

  qpalrtStatus launch(qpalrtFunction &function,
                      const qpalrtLaunchConfig &config, const Address *args,
                      size_t numArgs) override {
    if (qpalrtStatus s = bind())
      return s;
    return launchBound(function, config, args, numArgs);
  }

  qpalrtStatus timeLaunch(qpalrtFunction &function,
                          const qpalrtLaunchConfig &config, const Address *args,
                          size_t numArgs, int iterations,
                          double *microseconds) override {
    if (qpalrtStatus s = bind())
      return s;
    if (qpalrtStatus s = launchBound(function, config, args, numArgs))
      return s;
    float milliseconds = 0;
    if (qpalrtStatus s = timeOnStream(
            nullptr,
            [&]() -> qpalrtStatus {
              for (int i = 0; i < iterations; ++i)
                if (qpalrtStatus s =
                        launchBound(function, config, args, numArgs))
                  return s;
              return QPALRT_SUCCESS;
            },
            &milliseconds))
      return s;
    *microseconds = double(milliseconds) * 1000.0 / iterations;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus timeLaunchSets(qpalrtFunction &function,
                              const qpalrtLaunchConfig &config,
                              const Address *args, size_t numArgs,
                              size_t numSets, int iterations,
                              double *microseconds, bool *usedGraph) override {
    if (qpalrtStatus s = bind())
      return s;
    for (size_t set = 0; set < numSets; ++set)
      if (qpalrtStatus s =
              launchBound(function, config, args + set * numArgs, numArgs))
        return s;
    if (qpalrtStatus s = check(cu, cu.cuCtxSynchronize(), "cuCtxSynchronize"))
      return s;
    bool graphs = cu.cuStreamCreate && cu.cuStreamDestroy &&
                  cu.cuStreamBeginCapture && cu.cuStreamEndCapture &&
                  cu.cuGraphInstantiateWithFlags && cu.cuGraphLaunch &&
                  cu.cuGraphExecDestroy && cu.cuGraphDestroy;
    GraphResources resources{cu};
    if (graphs) {
      if (qpalrtStatus s = check(
              cu, cu.cuStreamCreate(&resources.stream, CU_STREAM_NON_BLOCKING),
              "cuStreamCreate"))
        return s;
      if (qpalrtStatus s =
              check(cu,
                    cu.cuStreamBeginCapture(
                        resources.stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                    "cuStreamBeginCapture"))
        return s;
      qpalrtStatus captured = QPALRT_SUCCESS;
      for (size_t set = 0; set < numSets && !captured; ++set)
        captured = launchBound(function, config, args + set * numArgs, numArgs,
                               resources.stream);
      // End the capture even when a launch failed, so the stream is usable.
      qpalrtStatus ended =
          check(cu, cu.cuStreamEndCapture(resources.stream, &resources.graph),
                "cuStreamEndCapture");
      if (captured)
        return captured;
      if (ended)
        return ended;
      if (qpalrtStatus s = check(cu,
                                 cu.cuGraphInstantiateWithFlags(
                                     &resources.exec, resources.graph, 0),
                                 "cuGraphInstantiateWithFlags"))
        return s;
      // One replay to load the graph.
      if (qpalrtStatus s =
              check(cu, cu.cuGraphLaunch(resources.exec, resources.stream),
                    "cuGraphLaunch"))
        return s;
    }
    CUstream stream = resources.stream;
    float milliseconds = 0;
    if (qpalrtStatus s = timeOnStream(
            stream,
            [&]() -> qpalrtStatus {
              for (int i = 0; i < iterations; ++i) {
                if (graphs) {
                  if (qpalrtStatus s =
                          check(cu, cu.cuGraphLaunch(resources.exec, stream),
                                "cuGraphLaunch"))
                    return s;
                  continue;
                }
                for (size_t set = 0; set < numSets; ++set)
                  if (qpalrtStatus s = launchBound(
                          function, config, args + set * numArgs, numArgs))
                    return s;
              }
              return QPALRT_SUCCESS;
            },
            &milliseconds))
      return s;
    *microseconds =
        double(milliseconds) * 1000.0 / (double(iterations) * numSets);
    *usedGraph = graphs;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus launchRange(qpalrtFunction &function, const Address *, size_t,
                           int64_t, int) override {
    return fail(QPALRT_ERROR_UNSUPPORTED,
                "qpalrtLaunchRange: '%s' is a CUDA kernel; ranged launches "
                "are for CPU kernels (use qpalrtLaunch)",
                function.name.c_str());
  }

  qpalrtStatus synchronize() override {
    if (qpalrtStatus s = bind())
      return s;
    return check(cu, cu.cuCtxSynchronize(), "cuCtxSynchronize");
  }

  void *nativeContext() override { return context; }

private:
  /// Runs `work` (which enqueues on `stream`) between two events and writes
  /// the time between them, once they completed, to `*milliseconds`.
  template <typename Work>
  qpalrtStatus timeOnStream(CUstream stream, Work &&work, float *milliseconds) {
    EventPair events{cu};
    if (qpalrtStatus s =
            check(cu, cu.cuEventCreate(&events.start, 0), "cuEventCreate"))
      return s;
    if (qpalrtStatus s =
            check(cu, cu.cuEventCreate(&events.stop, 0), "cuEventCreate"))
      return s;
    if (qpalrtStatus s =
            check(cu, cu.cuEventRecord(events.start, stream), "cuEventRecord"))
      return s;
    if (qpalrtStatus s = work())
      return s;
    if (qpalrtStatus s =
            check(cu, cu.cuEventRecord(events.stop, stream), "cuEventRecord"))
      return s;
    if (qpalrtStatus s =
            check(cu, cu.cuEventSynchronize(events.stop), "cuEventSynchronize"))
      return s;
    return check(cu,
                 cu.cuEventElapsedTime(milliseconds, events.start, events.stop),
                 "cuEventElapsedTime");
  }

  /// Makes the context current on the calling thread.
  qpalrtStatus bind() {
    return check(cu, cu.cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  /// Asks the driver, once per function, for the kernel's parameters.
  void queryParams(qpalrtFunction &function) {
    function.paramsQueried = true;
    if (!cu.cuFuncGetParamInfo)
      return;
    auto handle = static_cast<CUfunction>(function.handle);
    for (int index = 0; index < 4096; ++index) {
      size_t offset = 0, size = 0;
      CUresult result = cu.cuFuncGetParamInfo(handle, index, &offset, &size);
      if (result == CUDA_ERROR_INVALID_VALUE) {
        function.arity = index;
        return;
      }
      if (result != CUDA_SUCCESS)
        return; // Not knowable for this function: do not check.
      if (size != sizeof(CUdeviceptr) && function.firstNonPointerParam < 0)
        function.firstNonPointerParam = index;
    }
  }

  /// Launches once the context is current.
  qpalrtStatus launchBound(qpalrtFunction &function,
                           const qpalrtLaunchConfig &config,
                           const Address *args, size_t numArgs,
                           CUstream stream = nullptr) {
    if (!function.paramsQueried)
      queryParams(function);
    if (function.arity >= 0 && size_t(function.arity) != numArgs)
      return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                  "kernel '%s' takes %d parameters, launched with %zu buffers",
                  function.name.c_str(), function.arity, numArgs);
    if (function.arity >= 0 && function.firstNonPointerParam >= 0)
      return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                  "kernel '%s' parameter %d is not a pointer",
                  function.name.c_str(), function.firstNonPointerParam);
    auto handle = static_cast<CUfunction>(function.handle);
    if (config.dynamicSharedBytes > function.sharedBytesOptIn) {
      if (qpalrtStatus s =
              check(cu,
                    cu.cuFuncSetAttribute(
                        handle, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                        int(config.dynamicSharedBytes)),
                    "cuFuncSetAttribute", function.name.c_str()))
        return s;
      function.sharedBytesOptIn = config.dynamicSharedBytes;
    }
    CUdeviceptr pointers[QPALRT_MAX_KERNEL_ARGS];
    void *params[QPALRT_MAX_KERNEL_ARGS];
    for (size_t i = 0; i < numArgs; ++i) {
      pointers[i] = args[i];
      params[i] = &pointers[i];
    }
    return check(cu,
                 cu.cuLaunchKernel(handle, config.grid[0], config.grid[1],
                                   config.grid[2], config.block[0],
                                   config.block[1], config.block[2],
                                   config.dynamicSharedBytes, stream,
                                   numArgs ? params : nullptr, nullptr),
                 "cuLaunchKernel", function.name.c_str());
  }

  const Driver &cu;
  CUdevice device;
  CUcontext context;
};

} // namespace

qpalrtStatus qpalrt::getCudaDeviceCount(int *count) {
  const Driver *cu = nullptr;
  if (qpalrtStatus s = getDriver(cu))
    return s;
  int devices = 0;
  if (qpalrtStatus s =
          check(*cu, cu->cuDeviceGetCount(&devices), "cuDeviceGetCount"))
    return s;
  if (devices == 0)
    return fail(QPALRT_ERROR_NO_DEVICE,
                "no CUDA device: the CUDA driver reports 0 devices");
  *count = devices;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrt::createCudaBackend(int ordinal,
                                       std::unique_ptr<Backend> &out) {
  int count = 0;
  if (qpalrtStatus s = getCudaDeviceCount(&count))
    return s;
  if (ordinal < 0 || ordinal >= count)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "CUDA device ordinal %d out of range: there are %d devices",
                ordinal, count);
  const Driver *cu = nullptr;
  if (qpalrtStatus s = getDriver(cu))
    return s;
  CUdevice device = 0;
  if (qpalrtStatus s =
          check(*cu, cu->cuDeviceGet(&device, ordinal), "cuDeviceGet"))
    return s;
  CUcontext context = nullptr;
  if (qpalrtStatus s =
          check(*cu, cu->cuDevicePrimaryCtxRetain(&context, device),
                "cuDevicePrimaryCtxRetain"))
    return s;
  out = std::make_unique<CudaBackend>(*cu, device, context);
  return QPALRT_SUCCESS;
}
