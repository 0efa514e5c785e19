//===- DecodeModels.h - The external models of each family ------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_DECODE_DECODEMODELS_H
#define QPAL_CONVERSION_QPALTOKERNELS_DECODE_DECODEMODELS_H

#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"
#include "qpal/Conversion/QPalToKernels/DecodeSupport.h"
#include "qpal/Conversion/QPalToKernels/PairTableModels.h"

#include "mlir/IR/MLIRContext.h"

namespace qpal::detail {

/// Attach the decode interfaces of one quantizer family, for each family
/// of Families.def that stores codes (`<Name>Decode.cpp`).
#define QPAL_CODED_FAMILY(Name, Value, Mnemonic)                               \
  void attach##Name##DecodeModels(mlir::MLIRContext *context);
#include "qpal/Quant/Families.def"

/// Fails, with a diagnostic at `loc`, unless `quantizer` (VQ or SQ) stores
/// its codes in the layout of `kind`.
inline llvm::LogicalResult checkLayout(QuantizerAttrInterface quantizer,
                                       mlir::Location loc, KernelKind kind) {
  if (quantizer.getSpec().kernel == kind)
    return llvm::success();
  return mlir::emitError(loc)
         << quantizer.getReferenceName()
         << (kind == KernelKind::TensorCore
                 ? " stores its codes in the SIMT layout, not the "
                   "tensor-core one"
                 : " stores its codes in the tensor-core layout");
}

} // namespace qpal::detail

#endif // QPAL_CONVERSION_QPALTOKERNELS_DECODE_DECODEMODELS_H
