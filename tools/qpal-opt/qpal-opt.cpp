//===- qpal-opt.cpp - The qpal MLIR driver --------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// mlir-opt with the qpal dialect and passes, and the upstream dialects and
// passes qpal's pipelines use (func, arith, math, scf, memref, vector, gpu,
// nvvm, llvm). The output file is written whole or not at all
// (qpal/Support/OutputFile.h): when parsing or a pass fails, an existing
// output file keeps its contents.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/BackendOptions.h"
#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Dialect/QPal/QPalDialect.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Passes/Pipelines.h"
#include "qpal/Support/OutputFile.h"

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
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

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
  // The LLVM backend options qpal's kernels are tuned for, as `qpal` has.
  std::vector<const char *> args(argv, argv + argc);
  qpal::appendDefaultBackendOptions(args);
  argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  argv = const_cast<char **>(args.data());
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv, "qpal optimizer driver\n", registry);
  const std::string output = outputFilename;
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  // Listings and stdout need no output file: mlir-opt's own driver.
  if (outputFilename == "-" || config.shouldShowDialects() ||
      config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  llvm::InitLLVM init(argc, argv);
  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &message);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), "qpal-opt") << message << "\n";
    return 1;
  }
  // Diagnostics are reported as the pipeline runs; a failure only keeps
  // the output file from being replaced.
  bool pipelineFailed = false;
  llvm::Error written = qpal::writeOutputFile(
      output, [&](llvm::raw_pwrite_stream &os) -> llvm::Error {
        if (succeeded(
                mlir::MlirOptMain(os, std::move(input), registry, config)))
          return llvm::Error::success();
        pipelineFailed = true;
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "'" + output + "' was not written");
      });
  if (!written)
    return 0;
  std::string error = llvm::toString(std::move(written));
  if (!pipelineFailed)
    llvm::WithColor::error(llvm::errs(), "qpal-opt") << error << "\n";
  return 1;
}
