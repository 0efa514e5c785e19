//===- QPalDialect.cpp - The qpal dialect ---------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

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
  // The plug-in quantizers' dialects, whose attributes qpal's passes build.
  detail::loadPluginQuantizerDialects(getContext());
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
  if (attr.getName() == kLayerAttrName) {
    auto layer = dyn_cast<IntegerAttr>(attr.getValue());
    if (!isa<AttentionOp>(op) || !layer || layer.getInt() < 0)
      return op->emitError() << "'" << kLayerAttrName
                             << "' must be a non-negative integer on a "
                                "'qpal.attention'";
    return success();
  }
  if (attr.getName() == kParallelAttrName) {
    auto groups = dyn_cast<IntegerAttr>(attr.getValue());
    if (!groups || groups.getInt() <= 0 ||
        (op->getName().getStringRef() != "func.call" &&
         op->getName().getStringRef() != "llvm.call"))
      return op->emitError() << "'" << kParallelAttrName
                             << "' must be a positive integer on a call";
    return success();
  }
  if (attr.getName() == kParallelLoopAttrName) {
    StringRef name = op->getName().getStringRef();
    if (!isa<UnitAttr>(attr.getValue()) ||
        (name != "func.call" && name != "llvm.call") ||
        op->getNumOperands() < 2)
      return op->emitError() << "'" << kParallelLoopAttrName
                             << "' is a unit attribute on a call whose last "
                                "two operands are an iteration range";
    return success();
  }
  if (attr.getName() == kStepPartAttrName) {
    StringRef name = op->getName().getStringRef();
    if (!isa<UnitAttr>(attr.getValue()) ||
        (name != "func.func" && name != "llvm.func"))
      return op->emitError() << "'" << kStepPartAttrName
                             << "' is a unit attribute on a function";
    return success();
  }
  return op->emitError() << "unknown qpal attribute '"
                         << attr.getName().getValue() << "'";
}

LogicalResult QPalDialect::verifyRegionArgAttribute(Operation *op,
                                                    unsigned regionIndex,
                                                    unsigned argIndex,
                                                    NamedAttribute attr) {
  if (attr.getName() == kKvCacheAttrName) {
    // A declaration has no entry block: its type comes from the signature.
    Type type;
    if (auto function = dyn_cast<FunctionOpInterface>(op))
      type = function.getArgumentTypes()[argIndex];
    else if (!op->getRegion(regionIndex).empty())
      type = op->getRegion(regionIndex).getArgument(argIndex).getType();
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError()
             << "'" << kKvCacheAttrName << "' is a unit attribute, got "
             << attr.getValue();
    auto cache = dyn_cast_or_null<MemRefType>(type);
    if (!cache || cache.getRank() != 3 || !cache.getElementType().isF32())
      return op->emitError()
             << "'" << kKvCacheAttrName
             << "' marks a rank-3 f32 memref argument, got " << type;
    return success();
  }
  return op->emitError() << "unknown qpal argument attribute '"
                         << attr.getName().getValue() << "'";
}
