//===- Package.h - What a package takes from the compiled IR ----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The weight arena of a compiled model: the constant globals its entry
// points read, laid out in one byte array that becomes a package's
// "weights" section (docs/Package.md).
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PASSES_PACKAGE_H
#define QPAL_PASSES_PACKAGE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qpal {

/// The bytes of the weights the entry points read, and where each lies.
struct WeightArena {
  /// Every weight starts at a multiple of this.
  static constexpr uint64_t kAlignment = 64;
  struct Entry {
    /// The global it was.
    std::string name;
    /// Its first byte in `bytes`.
    uint64_t offset;
    /// Its size.
    uint64_t size;
  };
  std::vector<char> bytes;
  std::vector<Entry> entries;
};

/// Moves every constant global with a value that an entry point (a
/// function with `llvm.emit_c_interface`) reads into the returned arena;
/// the entry points take it as a new first argument `memref<?xi8>` and view
/// their weights in it (the pass qpal-externalize-weights).
mlir::FailureOr<WeightArena> externalizeWeights(mlir::ModuleOp module);

} // namespace qpal

#endif // QPAL_PASSES_PACKAGE_H
