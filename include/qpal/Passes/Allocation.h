//===- Allocation.h - MSQ on a module's linear layers -----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// What `qpal-allocate-bits` does, as functions: `qpal allocate --model`
// imports the model and calls them, so the tool and the pass solve one
// problem built from the IR.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PASSES_ALLOCATION_H
#define QPAL_PASSES_ALLOCATION_H

#include "qpal/Alloc/Msq.h"
#include "qpal/Alloc/Plan.h"
#include "qpal/Alloc/ProblemBuilder.h"

#include "mlir/IR/BuiltinOps.h"

namespace qpal {

/// A module's allocation problem and its solution.
struct ModuleAllocation {
  alloc::MsqProblem problem;
  alloc::Plan plan;
};

/// Builds the MSQ problem of `module`'s linear layers (every one with
/// `block`, `role` and `sensitivity`; shapes from their weights) for
/// `request` (the module's palette when it names none) and solves it;
/// errors are reported on the module or the offending layer.
mlir::FailureOr<ModuleAllocation>
solveModuleAllocation(mlir::ModuleOp module, alloc::MsqRequest request,
                      const alloc::SolveOptions &solveOptions = {});

/// Sets every linear's quantizer by `plan` and wraps each planned fusion
/// group in a `qpal.fusion_group` (existing groups are dissolved first).
mlir::LogicalResult applyModuleAllocation(mlir::ModuleOp module,
                                          const alloc::Plan &plan);

/// The inverse of `applyModuleAllocation`: the plan `module` states, every
/// block linear's quantizer (f16 where it has none) and each
/// `qpal.fusion_group`, with the model shape derived from the weights.
/// Errors (a layer without its place, a group no fusion group names) are
/// reported on the module or the offending op.
mlir::FailureOr<alloc::Plan> readModuleAllocation(mlir::ModuleOp module);

} // namespace qpal

#endif // QPAL_PASSES_ALLOCATION_H
