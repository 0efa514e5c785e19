//===- DecodeModels.h - The external models of each family ------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_DECODE_DECODEMODELS_H
#define QPAL_CONVERSION_QPALTOKERNELS_DECODE_DECODEMODELS_H

#include "DecodeSupport.h"
#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"

#include "mlir/IR/MLIRContext.h"

namespace qpal::detail {

/// Attach the decode interfaces of one quantizer family (one file each).
void attachTcqDecodeModels(mlir::MLIRContext *context);
void attachVqDecodeModels(mlir::MLIRContext *context);
void attachSqDecodeModels(mlir::MLIRContext *context);

/// The pair table of a 2-D codebook (TCQ, VQ): entry e is codeword e.
template <typename Attr>
struct CodewordPairTable
    : PackedPairTableAttrInterface::ExternalModel<CodewordPairTable<Attr>,
                                                  Attr> {
  mlir::Value emitPackedPairEntry(mlir::Attribute, mlir::OpBuilder &builder,
                                  mlir::Location loc, mlir::Value codebook,
                                  mlir::Value entry) const {
    return emitCodebookPairEntry(builder, loc, codebook, entry);
  }
};

} // namespace qpal::detail

#endif // QPAL_CONVERSION_QPALTOKERNELS_DECODE_DECODEMODELS_H
