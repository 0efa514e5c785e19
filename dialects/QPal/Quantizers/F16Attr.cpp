//===- F16Attr.cpp - #qpal.f16: the unquantized member ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"

using namespace qpal;

QuantizerSpec F16Attr::getSpec() const { return QuantizerSpec::f16(); }

F16Attr F16Attr::fromSpec(mlir::MLIRContext *context, const QuantizerSpec &) {
  return get(context);
}
