//===- QPalDialect.h - The qpal dialect -------------------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The qpal dialect: quantizer attributes, the palette, linear layers, fusion
// groups and coarse Llama model operations.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_DIALECT_QPAL_QPALDIALECT_H
#define QPAL_DIALECT_QPAL_QPALDIALECT_H

#include "qpal/Model/TensorType.h"
#include "qpal/Quant/QuantizerSpec.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "qpal/Dialect/QPal/QPalDialect.h.inc"
#include "qpal/Dialect/QPal/QPalEnums.h.inc"

#include "qpal/Dialect/QPal/QPalAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qpal/Dialect/QPal/QPalAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "qpal/Dialect/QPal/QPalTypes.h.inc"

#define GET_OP_CLASSES
#include "qpal/Dialect/QPal/QPalOps.h.inc"

namespace qpal {

class QuantizerFamilyInfo;

/// What the dialect needs to know of a plug-in quantizer family's
/// attribute, which the plug-in's own dialect defines.
struct PluginQuantizerAttr {
  /// The attribute that `spec` (a spec of the family) describes; the
  /// inverse of its `getSpec()`.
  QuantizerAttrInterface (*fromSpec)(mlir::MLIRContext *context,
                                     const QuantizerSpec &spec);
  /// Loads the plug-in's dialect into `context`. Every context that loads
  /// the qpal dialect loads it too, so that a pass may build the family's
  /// attribute from a name (`quantizer=usq_4_none_1.0`) in any context.
  void (*loadDialect)(mlir::MLIRContext *context);
};

/// Registers a plug-in quantizer family: its descriptor with lib/Quant
/// (`registerQuantizerFamily`, with its checks) and its attribute with the
/// dialect, so that names, plans, palettes and allocations map to it. Call
/// it from the plug-in's registration (`mlirGetDialectPluginInfo`'s
/// callback) before any context is created; registering the same family
/// again does nothing. docs/NewQuantizer.md, "Out of tree".
llvm::Error registerPluginQuantizer(const QuantizerFamilyInfo &info,
                                    PluginQuantizerAttr attr);

namespace detail {
/// Loads the dialects of the registered plug-in quantizers into `context`
/// (QPalDialect::initialize).
void loadPluginQuantizerDialects(mlir::MLIRContext *context);
} // namespace detail

/// Returns the quantizer attribute that `spec` describes.
QuantizerAttrInterface getQuantizerAttr(mlir::MLIRContext *context,
                                        const QuantizerSpec &spec);

/// Parses a reference quantizer name (`tcq_6_none_0.9`, ...) into its
/// attribute; the error names the offending field.
llvm::Expected<QuantizerAttrInterface>
parseQuantizerName(mlir::MLIRContext *context, llvm::StringRef name);

/// Returns the `qpal.weight` symbol `op` reads (a linear's weight, an
/// embedding's table, a norm's gain, the LM head's weight), or null.
mlir::FlatSymbolRefAttr getReadWeightSymbol(mlir::Operation *op);

/// Returns the palette attached to `module` as `qpal.palette`, or null.
PaletteAttr getModulePalette(mlir::ModuleOp module);

/// Returns the palette of the Q-Palette reference (34 quantizers).
PaletteAttr getReferencePalette(mlir::MLIRContext *context);

} // namespace qpal

#endif // QPAL_DIALECT_QPAL_QPALDIALECT_H
