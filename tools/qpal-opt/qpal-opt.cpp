//===- qpal-opt.cpp - The qpal MLIR driver
//---------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// mlir-opt with the qpal dialect and passes, and the upstream dialects and
// passes qpal's pipelines use (func, arith, math, scf, memref, vector, gpu,
// nvvm, llvm).
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Dialect/QPal/QPalDialect.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Passes/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<
      qpal::QPalDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
      mlir::math::MathDialect, mlir::scf::SCFDialect,
      mlir::memref::MemRefDialect, mlir::tensor::TensorDialect,
      mlir::vector::VectorDialect, mlir::gpu::GPUDialect,
      mlir::NVVM::NVVMDialect, mlir::LLVM::LLVMDialect,
      mlir::bufferization::BufferizationDialect, mlir::linalg::LinalgDialect>();
  qpal::registerModelLoweringDependencies(registry);
  qpal::registerQPalPasses();
  qpal::registerQPalPipelines();
  mlir::registerTransformsPasses();
  mlir::registerConversionPasses();
  mlir::registerGPUPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qpal optimizer driver\n", registry));
}
