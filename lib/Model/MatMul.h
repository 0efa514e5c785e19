//===- MatMul.h - float32 matrix kernels of the evaluator -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The one kernel the reference evaluator spends its time in: Y = X * W^T with
// both operands row-major and K contiguous (activations times a [out x in]
// weight, queries times keys). Picks an AVX-512, AVX2+FMA or portable variant
// once, at run time.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_MODEL_MATMUL_H
#define QPAL_LIB_MODEL_MATMUL_H

#include <cstdint>

namespace qpal::model::detail {

/// Computes Y[t][n] = sum_k X[t][k] * W[n][k] for t < rows, n < cols, k < K.
/// `ldx`, `ldw` and `ldy` are the row strides, in elements.
void matmulTransposed(const float *x, int64_t ldx, const float *w, int64_t ldw,
                      float *y, int64_t ldy, int64_t rows, int64_t cols,
                      int64_t depth);

/// Returns the name of the variant `matmulTransposed` uses ("avx512",
/// "avx2", "generic").
const char *getMatmulVariantName();

} // namespace qpal::model::detail

#endif // QPAL_LIB_MODEL_MATMUL_H
