//===- DecodeInterfaces.h - How kernels decode packed codes -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The decode capabilities of quantizer attributes (DecodeInterfaces.td),
// attached by the conversion library as external models.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_DECODEINTERFACES_H
#define QPAL_CONVERSION_QPALTOKERNELS_DECODEINTERFACES_H

#include "qpal/Conversion/QPalToKernels/KernelDecode.h"
#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/IR/Attributes.h"
#include "mlir/IR/DialectRegistry.h"

#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h.inc"

namespace qpal {

/// Attaches the decode interfaces to the palette's quantizer attributes:
/// the lane decode and the packed pair table to every quantizer with a
/// tensor-core layout, the SIMT decode to VQ and SQ.
void registerDecodeInterfaceModels(mlir::DialectRegistry &registry);

} // namespace qpal

#endif // QPAL_CONVERSION_QPALTOKERNELS_DECODEINTERFACES_H
