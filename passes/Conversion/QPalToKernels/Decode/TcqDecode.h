//===- TcqDecode.h - Trellis window decode shared by tcq/tcq_split -*- C++ -*-//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_DECODE_TCQDECODE_H
#define QPAL_CONVERSION_QPALTOKERNELS_DECODE_TCQDECODE_H

#include "qpal/Conversion/QPalToKernels/KernelDecode.h"
#include "qpal/Quant/FormatEnums.h"

#include "llvm/ADT/SmallVector.h"

namespace qpal::detail {

/// Emits the decode of one lane's 16 trellis steps (4 tiles x 4 steps) of a
/// TCQ matrix with `kv` bits per step, in the kernel layout of
/// quantizers.md section 4.7: each state through a 2^tlutBits-entry
/// codebook, or computed from the state by `code`.
void emitTcqLaneDecode(mlir::OpBuilder &builder, mlir::Location loc,
                       const LaneDecodeArgs &args, unsigned kv,
                       unsigned tlutBits, TrellisCode code,
                       llvm::SmallVectorImpl<DecodedPair> &pairs);

} // namespace qpal::detail

#endif // QPAL_CONVERSION_QPALTOKERNELS_DECODE_TCQDECODE_H
