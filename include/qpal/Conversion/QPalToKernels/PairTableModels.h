//===- PairTableModels.h - Pair-table models of codebook families -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The two PackedPairTableAttrInterface models every codebook family needs
// one of, so that a family (in the tree or in a plug-in) attaches it
// instead of writing it: the table of a 2-D codebook is its codewords; the
// table of a 1-D (scalar) codebook pairs every two levels.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_PAIRTABLEMODELS_H
#define QPAL_CONVERSION_QPALTOKERNELS_PAIRTABLEMODELS_H

#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"
#include "qpal/Conversion/QPalToKernels/DecodeSupport.h"

namespace qpal {

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

/// The pair table of a scalar codebook of `Attr::getBits()` bits (SQ): entry
/// e pairs level e mod 2^b (first) with level e / 2^b (second).
template <typename Attr>
struct ScalarPairTable
    : PackedPairTableAttrInterface::ExternalModel<ScalarPairTable<Attr>, Attr> {
  mlir::Value emitPackedPairEntry(mlir::Attribute attr,
                                  mlir::OpBuilder &builder, mlir::Location loc,
                                  mlir::Value codebook,
                                  mlir::Value entry) const {
    return emitScalarPairEntry(builder, loc, codebook, entry,
                               mlir::cast<Attr>(attr).getBits());
  }
};

} // namespace qpal

#endif // QPAL_CONVERSION_QPALTOKERNELS_PAIRTABLEMODELS_H
