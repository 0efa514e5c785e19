//===- Ldlq.h - Hessian-aware rounding (LDLQ / BlockLDLQ) -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// LDLQ rounds a normalized weight Wn (rows x cols, in the rotated basis) so
// as to minimize the proxy loss tr((Wn - Wn^) H (Wn - Wn^)^T) for the input
// second moment H, instead of each weight's own squared error
// (beyond.md section 1, after QuIP#'s `LDLQ_VQ`):
//
//   1. H is regularized (0.01 x its mean diagonal added to the diagonal)
//      and rotated like the weight's columns: H_r = R H R^T with
//      R = RHT diag(SU);
//   2. block LDL: H_r = L D L^T with L unit block-lower-triangular (blocks
//      of b = 1 for SQ, 2 for VQ, 16 for trellis codes: one tile width),
//      its diagonal blocks then zeroed;
//   3. column blocks from the last to the first: the target of block k is
//      Wn[:, k] + (Wn - Wn^)[:, >k] L[>k, k], rounded as the family rounds
//      (the nearest codeword; the Viterbi search per 16 x 16 tile); Wn^[:, k]
//      is the result.
//
// With H = I there is no feedback and the codes are exactly the data-free
// encoder's. The Cholesky factorization, triangular solves and products are
// LAPACK's and BLAS's (OpenBLAS): this is the library QPalLdlq, apart from
// QPalQuant so that programs that only decode (the GPU kernel runner) need
// no BLAS.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_LDLQ_H
#define QPAL_QUANT_LDLQ_H

#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/Trellis.h"
#include "qpal/Quant/Viterbi.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qpal {

/// The relative diagonal regularization of the reference (sigma_reg).
constexpr double kHessianRegularization = 0.01;

/// Adds `sigma` x mean(diag(H)) to H's diagonal (n x n, row-major); a zero
/// diagonal gets `sigma`.
void regularizeHessian(llvm::MutableArrayRef<double> h, int64_t n,
                       double sigma = kHessianRegularization);

/// Returns R H R^T for R = RHT diag(signs): the second moment of the
/// rotated input x_r = RHT(SU . x). `h` is n x n, row-major.
std::vector<double> rotateHessian(llvm::ArrayRef<double> h, int64_t n,
                                  llvm::ArrayRef<float> signs,
                                  const HadamardTransform &transform);

/// The block LDL factorization H = L D L^T.
struct BlockLdl {
  int64_t size = 0;
  unsigned block = 1;
  /// L, n x n row-major, unit block-lower-triangular with its diagonal
  /// blocks set to zero (the feedback weights of LDLQ).
  std::vector<double> lower;
  /// D's diagonal blocks, n / block of them, each block x block row-major.
  std::vector<double> diagonal;
};

/// Factors the symmetric positive-definite `h` (n x n) with diagonal blocks
/// of `block` (which must divide n). Fails, naming the pivot, when H is not
/// positive definite.
llvm::Expected<BlockLdl> factorBlockLdl(llvm::ArrayRef<double> h, int64_t n,
                                        unsigned block);

/// LDLQ with a 1-D or 2-D codebook: returns rows * cols / dim codes,
/// row-major, as `encodeLutCodes` does. `ldl.block` must equal the
/// codebook's dimension.
llvm::Expected<std::vector<uint16_t>>
encodeLutCodesLdlq(const float *weights, int64_t rows, int64_t cols,
                   const Codebook &codebook, const BlockLdl &ldl,
                   unsigned threads = 0);

/// BlockLDLQ for trellis codes: blocks of 16 columns (one tile width),
/// each column strip's 16 x 16 tiles Viterbi-encoded on their fed-back
/// targets with the rate `kvOf(first column of the strip)`. Returns 128
/// states per tile, tiles row-major over the whole weight, as
/// `encodeTcqStates` does; `ldl.block` must be 16.
llvm::Expected<std::vector<uint16_t>>
encodeTcqStatesLdlq(const float *weights, int64_t rows, int64_t cols,
                    llvm::function_ref<unsigned(int64_t column)> kvOf,
                    const TcqStateTable &table, const BlockLdl &ldl,
                    const TcqEncodeOptions &options = {});

/// quantizeLayer for a `hess` quantizer (any family but f16): the same
/// rotation, row scales and packed layout, the codes rounded with LDLQ against
/// `options.hessian` (the layer input's second moment, cols x cols, in the
/// original basis; regularized and rotated here). Also takes `none`
/// quantizers, which it hands to quantizeLayer.
llvm::Expected<QuantizedLayer>
quantizeLayerWithHessian(const QuantizerSpec &spec, const float *weights,
                         int64_t rows, int64_t cols,
                         const QuantizeOptions &options);

/// The proxy loss tr(E H E^T) of the error E = a - b (rows x cols, f32) for
/// the n x n `h` (n = cols), in float64.
double proxyLoss(const float *a, const float *b, int64_t rows, int64_t cols,
                 llvm::ArrayRef<double> h);

/// How far a quantized weight is from the original, weighted by its input
/// second moment H.
struct ProxyError {
  /// tr(dW H dW^T) / tr(W H W^T): the proxy loss relative to the layer's
  /// output energy.
  double relativeProxy = 0;
  /// tr(dW H dW^T) * cols / (||W||_F^2 tr(H)): the relative MSE of the
  /// isotropic noise with the same proxy loss (MSQ's per-layer err_l;
  /// equal to `relativeMse` when H = I).
  double error = 0;
  /// ||dW||_F^2 / ||W||_F^2.
  double relativeMse = 0;
};

/// The errors of `quantized` against `original` (rows x cols, f32) for the
/// n x n `h` (n = cols; not regularized), in float64. Fails, naming the
/// quantity, on an all-zero weight or a zero trace of H.
llvm::Expected<ProxyError> measureProxyError(const float *original,
                                             const float *quantized,
                                             int64_t rows, int64_t cols,
                                             llvm::ArrayRef<double> h);

} // namespace qpal

#endif // QPAL_QUANT_LDLQ_H
