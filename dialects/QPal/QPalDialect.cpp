//===- QPalDialect.cpp - The qpal dialect ---------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"

using namespace mlir;
using namespace qpal;

#include "qpal/Dialect/QPal/QPalDialect.cpp.inc"
#include "qpal/Dialect/QPal/QPalEnums.cpp.inc"

void QPalDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "qpal/Dialect/QPal/QPalOps.cpp.inc"
      >();
}

LogicalResult QPalDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName() == kPaletteAttrName) {
    if (!isa<ModuleOp>(op))
      return op->emitError()
             << "'" << kPaletteAttrName << "' may only be attached to a module";
    if (!isa<PaletteAttr>(attr.getValue()))
      return op->emitError()
             << "'" << kPaletteAttrName << "' must be a #qpal.palette, got "
             << attr.getValue();
    return success();
  }
  if (attr.getName() == kModelFileAttrName) {
    if (!isa<ModuleOp>(op) || !isa<StringAttr>(attr.getValue()))
      return op->emitError()
             << "'" << kModelFileAttrName << "' must be a string on a module";
    return success();
  }
  return op->emitError() << "unknown qpal attribute '"
                         << attr.getName().getValue() << "'";
}
