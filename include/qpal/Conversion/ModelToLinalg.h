//===- ModelToLinalg.h - Model-level ops to linalg/tensor/scf ---*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The lowering of the model-level ops (embedding, RMSNorm, RoPE, attention
// over the KV cache, SwiGLU, residual adds, dense linears and the LM head)
// of a step entry point (qpal-outline-steps) to upstream dialects, ready for
// one-shot bufferization.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_MODELTOLINALG_H
#define QPAL_CONVERSION_MODELTOLINALG_H

#include "qpal/Conversion/KernelTarget.h"
#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

#include "llvm/ADT/DenseMap.h"

namespace qpal {

/// The constant globals that hold the dense weights' values, by the weight's
/// symbol name. The patterns read weights through them.
class WeightGlobals {
public:
  /// Creates (at the end of `module`, once per weight) the global of every
  /// `qpal.weight` with a `value` that an op of `module` reads; fails with a
  /// diagnostic on a read weight without one.
  static mlir::FailureOr<WeightGlobals> create(mlir::ModuleOp module);

  /// The global of weight `name`, or null.
  mlir::memref::GlobalOp lookup(mlir::StringAttr name) const {
    return globals.lookup(name);
  }

private:
  llvm::DenseMap<mlir::StringAttr, mlir::memref::GlobalOp> globals;
};

/// Adds the patterns that lower `qpal.embedding`, `qpal.rms_norm`,
/// `qpal.rope`, `qpal.attention` (numbered by `qpal.layer`, over the
/// enclosing function's `qpal.kv_cache` argument and `position`, its second
/// argument), `qpal.swiglu`, `qpal.add`, `qpal.lm_head` and dense
/// `qpal.linear` ops. For `KernelTarget::Nvptx`, every loop nest that
/// touches a buffer is an `scf.parallel` (a GPU kernel) and nothing is
/// allocated inside one; for the CPU, the loops too small to be worth a
/// thread stay `scf.for`s.
void populateQPalModelToLinalgPatterns(const WeightGlobals &weights,
                                       mlir::RewritePatternSet &patterns,
                                       KernelTarget target = KernelTarget::Cpu);

} // namespace qpal

#endif // QPAL_CONVERSION_MODELTOLINALG_H
