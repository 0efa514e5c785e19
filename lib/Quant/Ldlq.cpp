//===- Ldlq.cpp - Hessian-aware rounding (LDLQ / BlockLDLQ) ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Ldlq.h"

#include "Diagnostics.h"

#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/SimtLayout.h"

#include "llvm/Support/FormatVariadic.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>

using namespace qpal;
using qpal::detail::makeError;

void qpal::regularizeHessian(llvm::MutableArrayRef<double> h, int64_t n,
                             double sigma) {
  double trace = 0;
  for (int64_t i = 0; i < n; ++i)
    trace += h[i * n + i];
  double mean = n > 0 ? trace / static_cast<double>(n) : 0.0;
  double shift = sigma * (mean > 0 ? mean : 1.0);
  for (int64_t i = 0; i < n; ++i)
    h[i * n + i] += shift;
}

std::vector<double> qpal::rotateHessian(llvm::ArrayRef<double> h, int64_t n,
                                        llvm::ArrayRef<float> signs,
                                        const HadamardTransform &transform) {
  // Rows: M = H R^T (row i of M is R applied to row i of H); then the rows
  // of M^T, which gives (R M)^T = R H R^T (symmetric).
  std::vector<double> m(h.begin(), h.end()), scratch(n);
  auto rotateRows = [&](std::vector<double> &matrix) {
    for (int64_t i = 0; i < n; ++i) {
      double *row = matrix.data() + i * n;
      for (int64_t c = 0; c < n; ++c)
        row[c] *= static_cast<double>(signs[c]);
      transform.apply(row, scratch.data());
    }
  };
  rotateRows(m);
  std::vector<double> t(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      t[j * n + i] = m[i * n + j];
  rotateRows(t);
  // Symmetrize away the rounding of the two passes.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) {
      double mean = 0.5 * (t[i * n + j] + t[j * n + i]);
      t[i * n + j] = t[j * n + i] = mean;
    }
  return t;
}

llvm::Expected<BlockLdl> qpal::factorBlockLdl(llvm::ArrayRef<double> h,
                                              int64_t n, unsigned block) {
  if (n <= 0 || block == 0 || n % block != 0)
    return makeError(llvm::formatv(
        "block LDL: the size {0} must be a positive multiple of the block {1}",
        n, block));
  if (static_cast<int64_t>(h.size()) != n * n)
    return makeError(llvm::formatv(
        "block LDL: expects {0} x {0} = {1} values, got {2}", n, n * n,
        h.size()));
  // H = C C^T (lower C, LAPACK), then L = C blockdiag(C_kk)^-1 and
  // D_k = C_kk C_kk^T.
  std::vector<double> c(h.begin(), h.end());
  lapack_int info =
      LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', static_cast<lapack_int>(n),
                     c.data(), static_cast<lapack_int>(n));
  if (info > 0)
    return makeError(llvm::formatv(
        "block LDL: the Hessian is not positive definite (the leading minor "
        "of order {0} is not positive); regularize it",
        info));
  if (info < 0)
    return makeError(
        llvm::formatv("block LDL: LAPACK dpotrf rejected argument {0}", -info));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      c[i * n + j] = 0.0;

  BlockLdl result;
  result.size = n;
  result.block = block;
  result.diagonal.resize(static_cast<size_t>(n) * block);
  std::vector<double> pivot(static_cast<size_t>(block) * block);
  for (int64_t k0 = 0; k0 < n; k0 += block) {
    for (unsigned a = 0; a < block; ++a)
      for (unsigned b = 0; b < block; ++b)
        pivot[a * block + b] = c[(k0 + a) * n + k0 + b];
    // D_k = C_kk C_kk^T.
    double *d = result.diagonal.data() + (k0 / block) * block * block;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, block, block, block,
                1.0, pivot.data(), block, pivot.data(), block, 0.0, d, block);
    // L[k0:, k0:k0+b] = C[k0:, k0:k0+b] C_kk^-1 (rows above k0 are zero).
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans,
                CblasNonUnit, static_cast<int>(n - k0), static_cast<int>(block),
                1.0, pivot.data(), static_cast<int>(block), c.data() + k0 * n + k0,
                static_cast<int>(n));
    // The unit diagonal block carries no feedback.
    for (unsigned a = 0; a < block; ++a)
      for (unsigned b = 0; b < block; ++b)
        c[(k0 + a) * n + k0 + b] = 0.0;
  }
  result.lower = std::move(c);
  return result;
}

llvm::Expected<std::vector<uint16_t>>
qpal::encodeLutCodesLdlq(const float *weights, int64_t rows, int64_t cols,
                         const Codebook &codebook, const BlockLdl &ldl,
                         unsigned threads) {
  (void)threads; // BLAS runs the products on its own threads.
  const unsigned dim = codebook.dim();
  if (auto err = checkLutShape("VQ/SQ LDLQ encoder", rows, cols, dim, 1, 1))
    return std::move(err);
  if (!weights)
    return makeError("VQ/SQ LDLQ encoder: null weight pointer");
  if (ldl.size != cols || ldl.block != dim)
    return makeError(llvm::formatv(
        "VQ/SQ LDLQ encoder: the factorization is {0} x {0} in blocks of {1}; "
        "the weight has {2} columns and codewords of {3}",
        ldl.size, ldl.block, cols, dim));
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(weights[i]))
      return makeError(llvm::formatv(
          "VQ/SQ LDLQ encoder: the normalized weight at ({0}, {1}) is not "
          "finite",
          i / cols, i % cols));
  auto search = NearestCodeword::create(codebook);
  if (!search)
    return search.takeError();

  const int64_t n = cols;
  const int64_t vectorsPerRow = cols / dim;
  std::vector<uint16_t> codes(static_cast<size_t>(rows * vectorsPerRow));
  // E = W - W^ of the columns done so far (zero elsewhere).
  std::vector<double> error(static_cast<size_t>(rows * cols), 0.0);
  const double *lower = ldl.lower.data();
  // Columns are taken in panels of up to 128 from the end: one product
  // brings in the feedback of every later panel, smaller ones that of the
  // panel's own later blocks.
  const int64_t panel = std::max<int64_t>(dim, 128 / dim * dim);
  std::vector<double> target;
  for (int64_t p1 = cols; p1 > 0;) {
    int64_t p0 = std::max<int64_t>(0, p1 - panel);
    int64_t width = p1 - p0;
    target.assign(static_cast<size_t>(rows * width), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < width; ++c)
        target[r * width + c] = weights[r * cols + p0 + c];
    if (p1 < cols)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                  static_cast<int>(rows), static_cast<int>(width),
                  static_cast<int>(cols - p1), 1.0, error.data() + p1,
                  static_cast<int>(cols), lower + p1 * n + p0,
                  static_cast<int>(n), 1.0, target.data(),
                  static_cast<int>(width));
    for (int64_t k0 = p1 - dim; k0 >= p0; k0 -= dim) {
      int64_t j = k0 - p0;
      int64_t later = p1 - (k0 + dim);
      if (later > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    static_cast<int>(rows), static_cast<int>(dim),
                    static_cast<int>(later), 1.0, error.data() + k0 + dim,
                    static_cast<int>(cols), lower + (k0 + dim) * n + k0,
                    static_cast<int>(n), 1.0, target.data() + j,
                    static_cast<int>(width));
      for (int64_t r = 0; r < rows; ++r) {
        const double *t = target.data() + r * width + j;
        uint32_t code = search->find(t);
        codes[r * vectorsPerRow + k0 / dim] = static_cast<uint16_t>(code);
        for (unsigned c = 0; c < dim; ++c)
          error[r * cols + k0 + c] =
              static_cast<double>(weights[r * cols + k0 + c]) -
              static_cast<double>(codebook.at(code, c));
      }
    }
    p1 = p0;
  }
  return codes;
}

double qpal::proxyLoss(const float *a, const float *b, int64_t rows,
                       int64_t cols, llvm::ArrayRef<double> h) {
  std::vector<double> e(static_cast<size_t>(rows * cols)),
      eh(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i)
    e[i] = static_cast<double>(a[i]) - static_cast<double>(b[i]);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
              static_cast<int>(cols), static_cast<int>(cols), 1.0, e.data(),
              static_cast<int>(cols), h.data(), static_cast<int>(cols), 0.0,
              eh.data(), static_cast<int>(cols));
  double loss = 0;
  for (int64_t i = 0; i < rows * cols; ++i)
    loss += e[i] * eh[i];
  return loss;
}

llvm::Expected<QuantizedLayer>
qpal::quantizeLayerWithHessian(const QuantizerSpec &spec, const float *weights,
                               int64_t rows, int64_t cols,
                               const QuantizeOptions &options) {
  if (!spec.hessian)
    return quantizeLayer(spec, weights, rows, cols, options);
  if (spec.family != QuantizerFamily::Vq && spec.family != QuantizerFamily::Sq)
    return makeError(llvm::formatv(
        "quantizer '{0}': Hessian-aware rounding is built for VQ and SQ only",
        spec.referenceName()));
  if (options.hessian.size() != static_cast<size_t>(cols * cols))
    return makeError(llvm::formatv(
        "quantizer '{0}' rounds against the layer's input Hessian: expects "
        "{1} x {1} values, got {2} (calibrate with `qpal calibrate` and pass "
        "--hessians)",
        spec.referenceName(), cols, options.hessian.size()));
  for (double value : options.hessian)
    if (!std::isfinite(value))
      return makeError(llvm::formatv(
          "quantizer '{0}': the layer's input Hessian has a non-finite entry",
          spec.referenceName()));
  QuantizedLayer layer;
  auto normalized = normalizeLayer(spec, weights, rows, cols, options, layer);
  if (!normalized)
    return normalized.takeError();
  std::vector<double> h(options.hessian.begin(), options.hessian.end());
  if (layer.rotated) {
    auto transform = HadamardTransform::create(cols);
    if (!transform)
      return transform.takeError();
    h = rotateHessian(h, cols, layer.signs, *transform);
  }
  regularizeHessian(h, cols);
  unsigned dim = spec.vectorDim();
  auto ldl = factorBlockLdl(h, cols, dim);
  if (!ldl)
    return ldl.takeError();
  auto codebook = shippedCodebook(spec);
  if (!codebook)
    return codebook.takeError();
  auto codes = encodeLutCodesLdlq(normalized->data(), rows, cols, **codebook,
                                  *ldl, options.threads);
  if (!codes)
    return codes.takeError();
  auto packed =
      spec.kernel == KernelKind::Simt
          ? packLutSimt(*codes, rows, cols, spec.indexBits, dim)
          : packLutTensorCore(*codes, rows, cols, spec.indexBits, dim);
  if (!packed)
    return packed.takeError();
  layer.codes = std::move(*packed);
  return layer;
}
