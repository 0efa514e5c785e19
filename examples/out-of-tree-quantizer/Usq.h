//===- Usq.h - The usq plug-in: family, dialect, decode, pass ---*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A quantizer family built against an installed qpal and loaded by its
// tools as a plug-in (README.md). The same three parts as a family in
// qpal's tree (docs/NewQuantizer.md), in four files:
//
//   UsqFamily.cpp   the numeric truth: a qpal::QuantizerFamilyInfo
//   UsqDialect.cpp  the attribute #usq.uniform, which describes it
//   UsqDecode.cpp   its decode, the models the kernel lowering calls
//   UsqPlugin.cpp   the entry points qpal-opt and qpal call on loading
//
// and UsqPasses.cpp, a pass on qpal's IR.
//
//===----------------------------------------------------------------------===//

#ifndef USQ_USQ_H
#define USQ_USQ_H

#include "qpal/Dialect/QPal/QPalDialect.h"
#include "qpal/Quant/QuantizerFamily.h"

#include "mlir/IR/Dialect.h"
#include "mlir/Pass/Pass.h"

#include "Usq.h.inc"

#define GET_ATTRDEF_CLASSES
#include "UsqAttrs.h.inc"

namespace usq {

/// The family's value in plans and packages: the first one qpal leaves to
/// plug-ins. A published plug-in keeps its value for good.
inline constexpr qpal::QuantizerFamily kUsqFamily =
    static_cast<qpal::QuantizerFamily>(qpal::kFirstPluginFamily);

/// The family's descriptor (UsqFamily.cpp).
const qpal::QuantizerFamilyInfo &getUsqFamilyInfo();

/// Attaches the decode models to #usq.uniform (UsqDecode.cpp).
void attachUsqDecodeModels(mlir::MLIRContext *context);

/// Registers the family with qpal: its descriptor, its attribute and the
/// dialect that defines it (UsqPlugin.cpp). Fails like
/// qpal::registerPluginQuantizer.
llvm::Error registerUsqQuantizer();

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "UsqPasses.h.inc"

} // namespace usq

#endif // USQ_USQ_H
