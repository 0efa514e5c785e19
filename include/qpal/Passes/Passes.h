//===- Passes.h - qpal passes -----------------------------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PASSES_PASSES_H
#define QPAL_PASSES_PASSES_H

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "qpal/Conversion/KernelTarget.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace qpal::model {
class ModelFile;
} // namespace qpal::model

namespace qpal {

#define GEN_PASS_DECL
#include "qpal/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qpal/Passes/Passes.h.inc"

} // namespace qpal

namespace qpal {
/// Opens the model file a pass reads weights from: `option` when set, else
/// the module's `qpal.model_file`; errors (naming `passName`) go to the
/// module.
mlir::FailureOr<std::unique_ptr<model::ModelFile>>
openPassModelFile(mlir::ModuleOp module, llvm::StringRef option,
                  llvm::StringRef passName);
} // namespace qpal

#endif // QPAL_PASSES_PASSES_H
