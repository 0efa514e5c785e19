//===- LowerToKernels.cpp - One kernel per quantized layer shape ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace qpal {
#define GEN_PASS_DEF_LOWERTOKERNELSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

struct LowerToKernelsPass final
    : qpal::impl::LowerToKernelsPassBase<LowerToKernelsPass> {
  using LowerToKernelsPassBase::LowerToKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool gpu = target == "nvptx";
    if (!gpu && target != "cpu") {
      module.emitError() << "unknown target '" << target
                         << "', expected cpu or nvptx";
      return signalPassFailure();
    }
    // The pass only writes IR: any ISA may be named on any host.
    llvm::Expected<CpuIsa> cpuIsaChoice =
        parseCpuIsa(cpuIsa, /*mustRunHere=*/false);
    if (!cpuIsaChoice) {
      module.emitError() << llvm::toString(cpuIsaChoice.takeError());
      return signalPassFailure();
    }
    llvm::Expected<CpuDecode> cpuDecodeChoice = parseCpuDecode(cpuDecode);
    if (!cpuDecodeChoice) {
      module.emitError() << llvm::toString(cpuDecodeChoice.takeError());
      return signalPassFailure();
    }
    GpuChip gpuChip;
    if (gpu) {
      llvm::Expected<GpuChip> found = lookupGpuChip(chip);
      if (!found) {
        module.emitError() << llvm::toString(found.takeError());
        return signalPassFailure();
      }
      gpuChip = *found;
      if (smCount > 0)
        gpuChip.smCount = smCount;
    }

    // Kernels of quantized layers: a fusion group is one kernel over its
    // members' concatenated rows.
    struct Job {
      Operation *op;
      KernelShape shape;
    };
    SmallVector<Job> jobs;
    bool failedAny = false;
    SymbolTableCollection symbolTable;
    module.walk([&](Operation *op) {
      SmallVector<LinearOp, 4> members;
      if (auto group = dyn_cast<FusionGroupOp>(op))
        members = group.getMembers();
      else if (auto linear = dyn_cast<LinearOp>(op);
               linear && !isa<FusionGroupOp>(op->getParentOp()))
        members.push_back(linear);
      if (members.empty() || !members.front().getQuantizerAttr())
        return;
      KernelShape shape;
      shape.quantizer = members.front().getQuantizerAttr();
      shape.batch = batch;
      for (LinearOp member : members) {
        FailureOr<std::pair<int64_t, int64_t>> mk =
            member.getWeightShape(symbolTable);
        if (failed(mk)) {
          failedAny = true;
          return;
        }
        shape.rows += mk->first;
        shape.cols = mk->second;
      }
      if (isa<F16Attr>(shape.quantizer))
        return; // Dense fp16 layers run a library GEMV/GEMM.
      jobs.push_back({op, shape});
    });
    if (failedAny)
      return signalPassFailure();

    OpBuilder builder(module.getBodyRegion());
    builder.setInsertionPointToEnd(module.getBody());
    gpu::GPUModuleOp kernels;
    if (gpu && !jobs.empty()) {
      kernels = module.lookupSymbol<gpu::GPUModuleOp>("qpal_kernels");
      if (!kernels) {
        kernels = gpu::GPUModuleOp::create(
            builder, module.getLoc(), "qpal_kernels",
            builder.getArrayAttr({NVVM::NVVMTargetAttr::get(
                &getContext(), /*optLevel=*/3, "nvptx64-nvidia-cuda",
                gpuChip.name, "+ptx78")}));
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        builder.getUnitAttr());
      }
    }
    for (Job &job : jobs) {
      std::string name =
          getKernelName(job.shape, gpu ? StringRef(gpuChip.name) : "cpu");
      Operation *symbolTable =
          gpu ? kernels.getOperation() : module.getOperation();
      if (!SymbolTable::lookupSymbolIn(symbolTable, name)) {
        if (gpu) {
          builder.setInsertionPointToEnd(kernels.getBody());
          if (failed(buildGpuKernel(builder, job.op->getLoc(), job.shape,
                                    chooseGpuLaunch(job.shape, gpuChip), name)))
            return signalPassFailure();
        } else {
          builder.setInsertionPointToEnd(module.getBody());
          CpuKernelOptions options;
          options.decode = *cpuDecodeChoice;
          options.isa = *cpuIsaChoice;
          if (failed(buildCpuKernel(builder, job.op->getLoc(), job.shape,
                                    options)))
            return signalPassFailure();
        }
      }
      SymbolRefAttr ref =
          gpu ? SymbolRefAttr::get(
                    builder.getStringAttr("qpal_kernels"),
                    {FlatSymbolRefAttr::get(&getContext(), name)})
              : SymbolRefAttr(FlatSymbolRefAttr::get(&getContext(), name));
      job.op->setAttr(QPalDialect::kKernelAttrName, ref);
    }
  }
};

} // namespace
