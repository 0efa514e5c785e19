//===- KernelBuild.cpp - One kernel built through the lowering -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "KernelBuild.h"

#include "qpal/Support/OutputFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qpal;
using namespace qpal::driver;

static mlir::DialectRegistry makeRegistry() {
  mlir::DialectRegistry registry;
  registerKernelLoweringDependencies(registry);
  return registry;
}

KernelBuild::KernelBuild()
    : context(makeRegistry()), handler(&context,
                                       [this](mlir::Diagnostic &diag) {
                                         diagnostics += diag.str();
                                         return mlir::success();
                                       }),
      builder(&context), loc(mlir::UnknownLoc::get(&context)),
      module(mlir::ModuleOp::create(loc)) {
  context.loadAllAvailableDialects();
  builder.setInsertionPointToEnd(module->getBody());
}

void KernelBuild::startGpuModule(StringRef chipName) {
  auto kernels = mlir::gpu::GPUModuleOp::create(
      builder, loc, "qpal_kernels",
      builder.getArrayAttr({mlir::NVVM::NVVMTargetAttr::get(
          &context, 3, "nvptx64-nvidia-cuda", chipName, "+ptx78")}));
  (*module)->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                     builder.getUnitAttr());
  builder.setInsertionPointToEnd(kernels.getBody());
}

mlir::LogicalResult
KernelBuild::lowerProduct(const KernelShape &shape,
                          const LowerToKernelsPassOptions &options,
                          StringRef name, const GpuLaunch *launch) {
  mlir::OpBuilder outside = mlir::OpBuilder::atBlockEnd(module->getBody());
  buildDequantMatmulFunction(outside, loc, "qpal_kernel_caller", shape);

  mlir::PassManager pm(&context);
  pm.addPass(createLowerToKernelsPass(options));
  if (mlir::failed(pm.run(*module)))
    return mlir::failure();
  if (launch) {
    bool matches = false;
    module->walk([&](mlir::gpu::LaunchFuncOp op) {
      if (op.getKernelName() != name)
        return;
      std::optional<int64_t> grid =
          mlir::getConstantIntValue(op.getGridSizeX());
      std::optional<int64_t> block =
          mlir::getConstantIntValue(op.getBlockSizeX());
      matches = grid == launch->gridX && block == launch->blockX;
    });
    if (!matches)
      return mlir::emitError(loc) << "the lowering launches " << name
                                  << " otherwise than chooseGpuLaunch reports";
  }
  SmallVector<mlir::Operation *> others;
  auto collect = [&](mlir::Block &block) {
    for (mlir::Operation &op : block) {
      auto symbol = dyn_cast<mlir::SymbolOpInterface>(op);
      if (symbol && symbol.getName() != name &&
          !isa<mlir::gpu::GPUModuleOp>(op))
        others.push_back(&op);
    }
  };
  collect(*module->getBody());
  module->walk(
      [&](mlir::gpu::GPUModuleOp kernels) { collect(*kernels.getBody()); });
  for (mlir::Operation *op : others)
    op->erase();
  return mlir::success();
}

Expected<std::string> KernelBuild::lowerToPtx() {
  if (failed(lowerGpuKernelsToPtx(*module)))
    return createStringError(inconvertibleErrorCode(),
                             "cannot lower the kernel to PTX: " + diagnostics);
  return extractPtx(*module, "qpal_kernels");
}

Error KernelBuild::writePtx(StringRef ptx, StringRef outputPath, StringRef chip,
                            bool print) {
  if (outputPath.ends_with(".cubin"))
    return assembleCubin(ptx, chip, outputPath);
  if (!outputPath.empty() && !outputPath.ends_with(".mlir"))
    return writeOutputFile(outputPath, ptx);
  if (outputPath.empty() && print)
    outs() << ptx;
  return Error::success();
}

Expected<std::string> KernelBuild::emitPtx(StringRef outputPath, StringRef chip,
                                           bool print) {
  Expected<std::string> ptx = lowerToPtx();
  if (!ptx)
    return ptx.takeError();
  if (Error err = writePtx(*ptx, outputPath, chip, print))
    return std::move(err);
  return ptx;
}
