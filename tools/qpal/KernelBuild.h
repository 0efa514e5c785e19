//===- KernelBuild.h - One kernel built through the lowering --*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The MLIR context, diagnostics and module in which `qpal kernel` builds one
// kernel: a dequant-matmul product lowered by `qpal-lower-to-kernels` as a
// compiled model's are, or the rotation kernel alone, and its PTX.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TOOLS_QPAL_KERNELBUILD_H
#define QPAL_TOOLS_QPAL_KERNELBUILD_H

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace qpal::driver {

/// Diagnostics from kernel construction name the rule that failed; they are
/// collected in `diagnostics` for the error message.
class KernelBuild {
public:
  KernelBuild();

  /// Creates the `gpu.module` for `chipName` and moves the builder into it.
  void startGpuModule(llvm::StringRef chipName);

  /// Lowers one `qpal.dequant_matmul` of `shape` through the pass
  /// `qpal-lower-to-kernels` (`options`) and keeps the kernel `name` alone:
  /// the calling function, the rotation kernel and the Hadamard global the
  /// pass emits around it are erased. With `launch` (NVPTX), checks that
  /// the pass launches the kernel on the grid and block the command
  /// reports and runs.
  mlir::LogicalResult lowerProduct(const KernelShape &shape,
                                   const LowerToKernelsPassOptions &options,
                                   llvm::StringRef name,
                                   const GpuLaunch *launch);

  /// Lowers the GPU module to PTX.
  llvm::Expected<std::string> lowerToPtx();

  /// Writes `ptx` where `outputPath` says: a cubin for `chip` (through
  /// ptxas), a .ptx file, or standard output when `print`.
  llvm::Error writePtx(llvm::StringRef ptx, llvm::StringRef outputPath,
                       llvm::StringRef chip, bool print);

  /// Lowers the GPU module to PTX and writes it (`writePtx`).
  llvm::Expected<std::string> emitPtx(llvm::StringRef outputPath,
                                      llvm::StringRef chip, bool print);

  mlir::MLIRContext context;
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler;
  mlir::OpBuilder builder;
  mlir::Location loc;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

} // namespace qpal::driver

#endif // QPAL_TOOLS_QPAL_KERNELBUILD_H
