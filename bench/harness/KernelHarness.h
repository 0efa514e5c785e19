//===- KernelHarness.h - Check and time one compiled kernel -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// What `qpal kernel --check --bench` does with a kernel once it is compiled:
// run it on seeded data (lib/Quant's KernelCase) against the float64
// reference and the reference decode, and time it against this machine's
// copy bandwidth. CPU kernels run JIT-compiled in-process on persistent
// worker threads, or from a shared object through the runtime
// (qpalrtLaunchRange); GPU kernels through the runtime's CUDA backend.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_BENCH_HARNESS_KERNELHARNESS_H
#define QPAL_BENCH_HARNESS_KERNELHARNESS_H

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Quant/KernelCase.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace qpal::harness {

/// Where `--guard-pages` puts each argument buffer of a CPU kernel run.
enum class GuardPlacement {
  /// In ordinary heap memory.
  None,
  /// Its last byte just before an inaccessible page: reading or writing
  /// past the end faults.
  End,
  /// Its first byte just after an inaccessible page: reading or writing
  /// before the start faults.
  Start,
};

/// "none", "end" or "start".
llvm::StringRef getGuardPlacementName(GuardPlacement placement);

/// How a kernel is exercised.
struct HarnessOptions {
  /// Seed of the case's data.
  uint64_t seed = 1;
  /// CPU worker threads (0: every hardware thread).
  unsigned threads = 0;
  /// Timed calls (0: about half a second's worth).
  unsigned iterations = 0;
  /// Time the kernel, not only check it.
  bool bench = false;
  /// Where the argument buffers of a JIT-compiled CPU kernel live.
  GuardPlacement guard = GuardPlacement::None;
};

/// Results for a table or a JSON object.
struct Report {
  llvm::json::Object fields;
  std::vector<std::string> lines;
};

/// Checks (and times) the CPU kernel of `shape` and its dequantization twin,
/// JIT-compiled from `module` (already in the LLVM dialect).
llvm::Error runCpuKernel(mlir::ModuleOp module, const KernelShape &shape,
                         const HarnessOptions &options, Report &report);

/// Checks (and times) the CPU kernel of `shape` from the shared object
/// `path` (`qpal kernel -o FILE.o`, linked with `-shared`) through the
/// runtime.
llvm::Error runCpuObject(llvm::StringRef path, const KernelShape &shape,
                         const HarnessOptions &options, Report &report);

/// Checks (and times) the GPU kernel `name` of `ptx` on a CUDA device
/// through the runtime.
llvm::Error runGpuKernel(llvm::StringRef ptx, const KernelShape &shape,
                         const GpuLaunch &launch, llvm::StringRef name,
                         const HarnessOptions &options, Report &report);

/// Checks the CPU rotation kernel of `cols` columns and `batch` rows,
/// JIT-compiled from `module`, against lib/Quant's HadamardTransform.
llvm::Error runCpuRotationKernel(mlir::ModuleOp module, int64_t cols,
                                 int64_t batch, const HarnessOptions &options,
                                 Report &report);

/// This machine's copy bandwidth (GB/s) on `workers` threads, STREAM-style:
/// the best of 3 copies of 256 MiB.
double measureCopyBandwidth(unsigned workers);

} // namespace qpal::harness

#endif // QPAL_BENCH_HARNESS_KERNELHARNESS_H
