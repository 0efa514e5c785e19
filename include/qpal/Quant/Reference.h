//===- Reference.h - CPU oracle of the dequant-matmul kernels ---*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The reference every generated kernel is checked against. For a quantized
// layer it computes, for each of `batch` inputs x of `cols` values,
//
//   y = Wscale (.) (Wn_hat . RHT(SU (.) x))
//
// where Wn_hat is decoded from the packed codes (fp16 codebook by default,
// as the kernels do) and Wscale are the stored fp16 scales; f16 layers
// compute y = W16 x. Inputs and outputs are row-major [batch][cols] and
// [batch][rows].
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_REFERENCE_H
#define QPAL_QUANT_REFERENCE_H

#include "qpal/Quant/Quantize.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace qpal {

/// y = W_hat x in float64: the transform, the products and the sums are all
/// float64 (the decoded fp16/fp32 values are exact in float64).
llvm::Expected<std::vector<double>>
referenceMatmul(const QuantizedLayer &layer, llvm::ArrayRef<double> inputs,
                int64_t batch,
                CodebookPrecision precision = CodebookPrecision::Fp16);

/// The same computation in float32 arithmetic: float32 transform, and each
/// output a sequential float32 sum over the columns in increasing order.
llvm::Expected<std::vector<float>>
referenceMatmulF32(const QuantizedLayer &layer, llvm::ArrayRef<float> inputs,
                   int64_t batch,
                   CodebookPrecision precision = CodebookPrecision::Fp16);

} // namespace qpal

#endif // QPAL_QUANT_REFERENCE_H
