//===- Backend.h - The interface of a device backend ------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Private to the runtime. The C entry points (Runtime.cpp) check their
// arguments and own the objects; a backend (CpuBackend.cpp, CudaBackend.cpp)
// does only what differs between devices. This header uses the C++ standard
// library alone: the runtime never includes MLIR or LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef QPALRT_LIB_BACKEND_H
#define QPALRT_LIB_BACKEND_H

#include "qpalrt.h"

#include <cstdarg>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace qpalrt {

/// Records a printf-style message as this thread's last error and returns
/// `status`, so that a failure is one statement: `return fail(...)`.
qpalrtStatus fail(qpalrtStatus status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/// The printf-style message of `format` and `args`.
std::string formatMessage(const char *format, va_list args)
    __attribute__((format(printf, 1, 0)));

/// A device address: a CUdeviceptr on CUDA, a host pointer on the CPU.
using Address = uint64_t;

/// What differs between devices. Arguments are already checked (non-null,
/// in bounds, buffers of this context); every failure goes through fail().
class Backend {
public:
  virtual ~Backend() = default;
  /// Fills `info` (zeroed by the caller).
  virtual qpalrtStatus getDeviceInfo(qpalrtDeviceInfo &info) = 0;
  /// Loads a module of a known `format` from memory. `path` names the file
  /// the bytes came from (the CPU opens it directly), or is null.
  virtual qpalrtStatus loadModule(const void *data, size_t size,
                                  qpalrtModuleFormat format, const char *path,
                                  void **module) = 0;
  /// Unloads a module returned by loadModule.
  virtual qpalrtStatus unloadModule(void *module) = 0;
  /// Looks `name` up in `module`; the message names the symbol and the
  /// module (`moduleName`) if it is missing.
  virtual qpalrtStatus getFunction(void *module, const char *name,
                                   const std::string &moduleName,
                                   void **function) = 0;
  /// Allocates `bytes` (> 0) of device memory.
  virtual qpalrtStatus allocate(size_t bytes, Address *address) = 0;
  /// Frees memory returned by allocate.
  virtual qpalrtStatus deallocate(Address address) = 0;
  /// Copies host to device.
  virtual qpalrtStatus upload(Address dst, const void *src, size_t bytes) = 0;
  /// Copies device to host, after earlier launches.
  virtual qpalrtStatus download(void *dst, Address src, size_t bytes) = 0;
  /// Launches `function` with `args` as its pointer parameters.
  virtual qpalrtStatus launch(qpalrtFunction &function,
                              const qpalrtLaunchConfig &config,
                              const Address *args, size_t numArgs) = 0;
  /// Launches once, then `iterations` (> 0) times, timing the latter.
  virtual qpalrtStatus timeLaunch(qpalrtFunction &function,
                                  const qpalrtLaunchConfig &config,
                                  const Address *args, size_t numArgs,
                                  int iterations, double *microseconds) = 0;
  /// Launches every set of `numArgs` args once, then `iterations` (> 0)
  /// rounds of all `numSets` sets, timing the rounds (per launch).
  virtual qpalrtStatus
  timeLaunchSets(qpalrtFunction &function, const qpalrtLaunchConfig &config,
                 const Address *args, size_t numArgs, size_t numSets,
                 int iterations, double *microseconds, bool *usedGraph) = 0;
  /// Calls `function` over [0, count) from `threads` (> 0) threads, each
  /// with `args` and a range of its own appended (qpalrtLaunchRange).
  virtual qpalrtStatus launchRange(qpalrtFunction &function,
                                   const Address *args, size_t numArgs,
                                   int64_t count, int threads) = 0;
  /// Waits for all launched work.
  virtual qpalrtStatus synchronize() = 0;
  /// The device context the backend works in (a CUcontext), for the mgpu*
  /// functions of nvptx packages (GpuAbi.h); null on the CPU.
  virtual void *nativeContext() { return nullptr; }
};

/// Writes the number of CPU devices (always 1).
qpalrtStatus getCpuDeviceCount(int *count);
/// Creates the CPU backend for `ordinal` (must be 0).
qpalrtStatus createCpuBackend(int ordinal, std::unique_ptr<Backend> &out);
/// Writes the number of CUDA devices; NO_DEVICE without driver or GPU.
qpalrtStatus getCudaDeviceCount(int *count);
/// Creates a CUDA backend on device `ordinal`'s primary context.
qpalrtStatus createCudaBackend(int ordinal, std::unique_ptr<Backend> &out);

} // namespace qpalrt

/// A device and everything created from it.
struct qpalrtContext {
  qpalrtDeviceKind kind;
  int ordinal;
  std::unique_ptr<qpalrt::Backend> backend;
  /// Owned; freed by qpalrtUnloadModule / qpalrtFree or with the context.
  std::set<qpalrtModule *> modules;
  std::set<qpalrtBuffer *> buffers;
  /// Guards `modules` and `buffers`: buffers may be allocated and freed,
  /// and modules loaded, from several threads at once (see qpalrt.h).
  std::mutex lock;
};

/// Loaded code and the functions looked up in it.
struct qpalrtModule {
  qpalrtContext *context;
  /// The backend's handle (CUmodule, dlopen handle).
  void *handle;
  /// The file it came from, or "<memory>": for messages.
  std::string name;
  std::map<std::string, std::unique_ptr<qpalrtFunction>> functions;
};

/// One kernel. The CUDA backend caches what it learned about it here.
struct qpalrtFunction {
  qpalrtModule *module;
  std::string name;
  /// The backend's handle (CUfunction, symbol address).
  void *handle;
  /// Whether the CUDA backend asked the driver for the parameters, and
  /// what it learned: their number (-1 if the driver cannot tell) and the
  /// first that is not pointer-sized (-1 if none).
  bool paramsQueried = false;
  int arity = -1;
  int firstNonPointerParam = -1;
  /// The dynamic shared memory the function has been opted in to.
  uint32_t sharedBytesOptIn = 48 * 1024;
};

/// A device allocation.
struct qpalrtBuffer {
  qpalrtContext *context;
  qpalrt::Address address;
  size_t size;
};

#endif // QPALRT_LIB_BACKEND_H
