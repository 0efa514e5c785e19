//===- GpuAbi.h - MLIR's GPU runtime ABI for nvptx packages -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Private to the runtime. The host code of an nvptx package ("code.nvptx")
// comes out of MLIR's gpu-to-llvm: it calls the "mgpu*" functions of MLIR's
// CUDA runtime wrappers to load its PTX (from a global constructor), allocate
// scratch and launch kernels. GpuAbi.cpp implements them over the runtime's
// CUDA driver; this header is how the package code points them at a package
// (GpuAbiScope) and collects what failed, since they return no status. Uses
// the C++ standard library alone.
//
//===----------------------------------------------------------------------===//

#ifndef QPALRT_LIB_GPUABI_H
#define QPALRT_LIB_GPUABI_H

#include "Backend.h"
#include "CudaDriver.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace qpalrt {
namespace cuda {

/// Points `cu` at the driver, loading it on first use; a driver that could
/// not be loaded gives the same status and message on every call
/// (CudaBackend.cpp).
qpalrtStatus getDriver(const Driver *&cu);
/// Names a driver error: "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation
/// failed)".
std::string describe(const Driver &cu, CUresult result);
/// The status a driver error becomes.
qpalrtStatus toStatus(CUresult result);

} // namespace cuda

/// A kernel the code looked up: what mgpuModuleGetFunction hands out, so
/// that a launch knows the kernel's name and parameters.
struct GpuFunction {
  cuda::CUfunction handle = nullptr;
  std::string name;
  /// The parameters, where the driver can tell (cuFuncGetParamInfo); -1
  /// otherwise.
  int arity = -1;
  /// The dynamic shared memory the kernel has been opted in to.
  int32_t sharedBytesOptIn = 48 * 1024;
};

/// What the mgpu* functions work on for one nvptx package: its CUDA context,
/// the first failure of the current scope, and the caches that make the
/// calls of every step cheap. Used by one thread at a time (a package's
/// rule).
struct GpuAbiState {
  const cuda::Driver *cu = nullptr;
  cuda::CUcontext context = nullptr;
  /// The first failure since the scope began, and its one-line message.
  qpalrtStatus status = QPALRT_SUCCESS;
  std::string message;
  /// The blocks mgpuMemAlloc handed out and mgpuMemFree did not take back:
  /// address -> size.
  std::map<cuda::CUdeviceptr, size_t> liveBlocks;
  /// Blocks mgpuMemFree took back, by size, for the next mgpuMemAlloc of that
  /// size: the code runs on one in-order stream, so a block is free for
  /// later work as soon as the code frees it.
  std::multimap<size_t, cuda::CUdeviceptr> freeBlocks;
  /// The modules the code loaded and has not unloaded.
  std::set<cuda::CUmodule> modules;
  /// Every kernel looked up, by module and name.
  std::map<std::pair<cuda::CUmodule, std::string>, std::unique_ptr<GpuFunction>>
      functions;
  /// Whether mgpuStreamSynchronize waits (false during a step, which
  /// synchronizes once at its end: see runStep).
  bool synchronizeStreams = true;
};

/// Runs `call` (an entry point, in a scope of `state`) as one step:
/// mgpuStreamSynchronize does not wait meanwhile (every outlined function
/// of a step synchronizes its stream, and the work is in order on one
/// stream anyway, so only the step's end needs to), then one
/// cuCtxSynchronize, whose failure (a kernel's fault) is the scope's.
void runStep(GpuAbiState &state, const std::function<void()> &call);

/// Creates the state of a package whose device is `context` (a CUDA
/// context).
qpalrtStatus createGpuAbiState(qpalrtContext &context,
                               std::unique_ptr<GpuAbiState> &out);

/// Frees the cached blocks and those the code never freed, and unloads the
/// modules the code left loaded (its destructor may not have run: a shared
/// object linked with -z nodelete stays loaded). The state is empty after.
qpalrtStatus releaseGpuAbiState(GpuAbiState &state);

/// Zeroes `bytes` (a multiple of 4) of device memory at `address`.
qpalrtStatus zeroDeviceMemory(GpuAbiState &state, Address address,
                              size_t bytes);

/// Makes the mgpu* functions resolvable by shared objects dlopen'ed later:
/// a libqpalrt.so (or a library that links the runtime) that was itself
/// opened with RTLD_LOCAL is promoted to the global scope. An executable
/// that links the runtime statically exports them when it is linked (see
/// runtime/CMakeLists.txt). Idempotent; never fails (a missing symbol shows
/// as the loader's error when the code is opened).
void exposeGpuAbi();

/// Makes `state` the one the mgpu* functions of this thread work on, with
/// its context current and no failure recorded, until the scope ends; the
/// previous state (scopes nest) comes back then. Calls outside every scope
/// do nothing and return null: the code's destructor at exit, when the
/// package was never closed, must not touch a driver being torn down.
class GpuAbiScope {
public:
  explicit GpuAbiScope(GpuAbiState &state);
  ~GpuAbiScope();
  GpuAbiScope(const GpuAbiScope &) = delete;
  GpuAbiScope &operator=(const GpuAbiScope &) = delete;

  /// The first failure of the scope (SUCCESS if none); its message is
  /// message().
  qpalrtStatus status() const { return state.status; }
  const std::string &message() const { return state.message; }

private:
  GpuAbiState &state;
  GpuAbiState *previous;
};

} // namespace qpalrt

#endif // QPALRT_LIB_GPUABI_H
