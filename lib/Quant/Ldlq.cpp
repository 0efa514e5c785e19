//===- Ldlq.cpp - Hessian-aware rounding (LDLQ / BlockLDLQ) ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Ldlq.h"

#include "Diagnostics.h"

#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/SimtLayout.h"
#include "qpal/Quant/TcqSplit.h"
#include "qpal/Quant/Trellis.h"
#include "qpal/Quant/Viterbi.h"

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
    return makeError(
        llvm::formatv("block LDL: expects {0} x {0} = {1} values, got {2}", n,
                      n * n, h.size()));
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
                1.0, pivot.data(), static_cast<int>(block),
                c.data() + k0 * n + k0, static_cast<int>(n));
    // The unit diagonal block carries no feedback.
    for (unsigned a = 0; a < block; ++a)
      for (unsigned b = 0; b < block; ++b)
        c[(k0 + a) * n + k0 + b] = 0.0;
  }
  result.lower = std::move(c);
  return result;
}

namespace {

/// Rounds the column block [k0, k0 + block) of every row: reads the
/// targets (rows x block, row stride `ld`) and writes the reconstruction
/// (rows x block, row-major) into `decoded`.
using BlockRounder =
    llvm::function_ref<llvm::Error(int64_t k0, const double *targets,
                                   int64_t ld, std::vector<double> &decoded)>;

/// The LDLQ sweep shared by every family: column blocks of `ldl.block` from
/// the last to the first, each target the weight plus the feedback of the
/// later columns' errors, in panels of up to 128 columns (one BLAS product
/// brings in the later panels, smaller ones the panel's own later blocks).
llvm::Error sweepLdlq(const float *weights, int64_t rows, int64_t cols,
                      const BlockLdl &ldl, BlockRounder round) {
  const int64_t n = cols, block = ldl.block;
  std::vector<double> error(static_cast<size_t>(rows * cols), 0.0);
  const double *lower = ldl.lower.data();
  const int64_t panel = std::max<int64_t>(block, 128 / block * block);
  std::vector<double> target, decoded;
  for (int64_t p1 = cols; p1 > 0;) {
    int64_t p0 = std::max<int64_t>(0, p1 - panel);
    int64_t width = p1 - p0;
    target.assign(static_cast<size_t>(rows * width), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < width; ++c)
        target[r * width + c] = weights[r * cols + p0 + c];
    if (p1 < cols)
      cblas_dgemm(
          CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
          static_cast<int>(width), static_cast<int>(cols - p1), 1.0,
          error.data() + p1, static_cast<int>(cols), lower + p1 * n + p0,
          static_cast<int>(n), 1.0, target.data(), static_cast<int>(width));
    for (int64_t k0 = p1 - block; k0 >= p0; k0 -= block) {
      int64_t j = k0 - p0;
      int64_t later = p1 - (k0 + block);
      if (later > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    static_cast<int>(rows), static_cast<int>(block),
                    static_cast<int>(later), 1.0, error.data() + k0 + block,
                    static_cast<int>(cols), lower + (k0 + block) * n + k0,
                    static_cast<int>(n), 1.0, target.data() + j,
                    static_cast<int>(width));
      if (llvm::Error err = round(k0, target.data() + j, width, decoded))
        return err;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < block; ++c)
          error[r * cols + k0 + c] =
              static_cast<double>(weights[r * cols + k0 + c]) -
              decoded[r * block + c];
    }
    p1 = p0;
  }
  return llvm::Error::success();
}

llvm::Error checkWeights(llvm::StringRef what, const float *weights,
                         int64_t rows, int64_t cols) {
  if (!weights)
    return makeError(llvm::formatv("{0}: null weight pointer", what));
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(weights[i]))
      return makeError(llvm::formatv(
          "{0}: the normalized weight at ({1}, {2}) is not finite", what,
          i / cols, i % cols));
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::vector<uint16_t>>
qpal::encodeLutCodesLdlq(const float *weights, int64_t rows, int64_t cols,
                         const Codebook &codebook, const BlockLdl &ldl,
                         unsigned threads) {
  (void)threads; // BLAS runs the products on its own threads.
  const unsigned dim = codebook.dim();
  if (auto err = checkLutShape("VQ/SQ LDLQ encoder", rows, cols, dim, 1, 1))
    return std::move(err);
  if (auto err = checkWeights("VQ/SQ LDLQ encoder", weights, rows, cols))
    return std::move(err);
  if (ldl.size != cols || ldl.block != dim)
    return makeError(llvm::formatv(
        "VQ/SQ LDLQ encoder: the factorization is {0} x {0} in blocks of {1}; "
        "the weight has {2} columns and codewords of {3}",
        ldl.size, ldl.block, cols, dim));
  auto search = NearestCodeword::create(codebook);
  if (!search)
    return search.takeError();
  const int64_t vectorsPerRow = cols / dim;
  std::vector<uint16_t> codes(static_cast<size_t>(rows * vectorsPerRow));
  auto round = [&](int64_t k0, const double *targets, int64_t ld,
                   std::vector<double> &decoded) -> llvm::Error {
    decoded.resize(static_cast<size_t>(rows) * dim);
    for (int64_t r = 0; r < rows; ++r) {
      uint32_t code = search->find(targets + r * ld);
      codes[r * vectorsPerRow + k0 / dim] = static_cast<uint16_t>(code);
      for (unsigned c = 0; c < dim; ++c)
        decoded[r * dim + c] = codebook.at(code, c);
    }
    return llvm::Error::success();
  };
  if (auto err = sweepLdlq(weights, rows, cols, ldl, round))
    return std::move(err);
  return codes;
}

llvm::Expected<std::vector<uint16_t>>
qpal::encodeTcqStatesLdlq(const float *weights, int64_t rows, int64_t cols,
                          llvm::function_ref<unsigned(int64_t column)> kvOf,
                          const TcqStateTable &table, const BlockLdl &ldl,
                          const TcqEncodeOptions &options) {
  constexpr int64_t tile = 16;
  if (rows <= 0 || cols <= 0 || rows % tile || cols % tile)
    return makeError(llvm::formatv(
        "TCQ LDLQ encoder: rows and cols must be positive multiples of 16, "
        "got {0} x {1}",
        rows, cols));
  if (auto err = checkWeights("TCQ LDLQ encoder", weights, rows, cols))
    return std::move(err);
  if (ldl.size != cols || ldl.block != tile)
    return makeError(llvm::formatv(
        "TCQ LDLQ encoder: the factorization is {0} x {0} in blocks of {1}; "
        "the weight has {2} columns and tiles of 16",
        ldl.size, ldl.block, cols));
  const int64_t tilesPerRow = cols / tile;
  const size_t stepsPerTile = kTcqStepsPerTile;
  std::vector<uint16_t> states(static_cast<size_t>(rows / tile) * tilesPerRow *
                               stepsPerTile);
  std::vector<float> strip(static_cast<size_t>(rows * tile));
  auto round = [&](int64_t k0, const double *targets, int64_t ld,
                   std::vector<double> &decoded) -> llvm::Error {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < tile; ++c)
        strip[r * tile + c] = static_cast<float>(targets[r * ld + c]);
    unsigned kv = kvOf(k0);
    auto stripStates =
        encodeTcqStates(strip.data(), rows, tile, kv, table, options);
    if (!stripStates)
      return stripStates.takeError();
    auto values = reconstructTcqStates(*stripStates, rows, tile, table,
                                       CodebookPrecision::Fp32);
    if (!values)
      return values.takeError();
    decoded.assign(values->begin(), values->end());
    // Tile t of the strip is tile (t, k0 / 16) of the weight.
    for (int64_t t = 0; t < rows / tile; ++t)
      std::copy_n(stripStates->begin() + t * stepsPerTile, stepsPerTile,
                  states.begin() +
                      (t * tilesPerRow + k0 / tile) * stepsPerTile);
    return llvm::Error::success();
  };
  if (auto err = sweepLdlq(weights, rows, cols, ldl, round))
    return std::move(err);
  return states;
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

llvm::Expected<ProxyError> qpal::measureProxyError(const float *original,
                                                   const float *quantized,
                                                   int64_t rows, int64_t cols,
                                                   llvm::ArrayRef<double> h) {
  if (h.size() != static_cast<size_t>(cols * cols))
    return makeError(llvm::formatv(
        "proxy error: H must be {0} x {0} (the weight's columns), got {1} "
        "values",
        cols, h.size()));
  double weightEnergy = 0, errorEnergy = 0;
  for (int64_t i = 0; i < rows * cols; ++i) {
    double w = original[i], e = w - static_cast<double>(quantized[i]);
    weightEnergy += w * w;
    errorEnergy += e * e;
  }
  double trace = 0;
  for (int64_t i = 0; i < cols; ++i)
    trace += h[i * cols + i];
  if (!(weightEnergy > 0))
    return makeError("proxy error: the weight is all zeros");
  if (!(trace > 0))
    return makeError("proxy error: H has a zero trace (no input energy)");
  std::vector<float> zeros(static_cast<size_t>(rows * cols), 0.0f);
  double proxy = proxyLoss(original, quantized, rows, cols, h);
  double output = proxyLoss(original, zeros.data(), rows, cols, h);
  ProxyError result;
  result.relativeProxy = output > 0 ? proxy / output : 0.0;
  result.error = proxy * static_cast<double>(cols) / (weightEnergy * trace);
  result.relativeMse = errorEnergy / weightEnergy;
  return result;
}

llvm::Expected<QuantizedLayer>
qpal::quantizeLayerWithHessian(const QuantizerSpec &spec, const float *weights,
                               int64_t rows, int64_t cols,
                               const QuantizeOptions &options) {
  if (!spec.hessian)
    return quantizeLayer(spec, weights, rows, cols, options);
  if (spec.family == QuantizerFamily::F16)
    return makeError("f16 layers are not rounded: no Hessian applies");
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
  const QuantizerFamilyInfo &info = spec.familyInfo();
  bool trellis = info.codecKind() == CodecKind::Trellis;
  unsigned dim = spec.vectorDim();
  auto ldl = factorBlockLdl(h, cols, trellis ? 16 : dim);
  if (!ldl)
    return ldl.takeError();
  if (trellis) {
    auto table = info.trellisTable(spec);
    if (!table)
      return table.takeError();
    TcqEncodeOptions tcqOptions;
    tcqOptions.threads = options.threads;
    tcqOptions.simd = options.simd;
    const int64_t half = cols / 2;
    bool split = spec.numColumnParts() == 2;
    auto states = encodeTcqStatesLdlq(
        normalized->data(), rows, cols,
        [&](int64_t column) {
          return split && column >= half ? spec.kv2 : spec.kv1;
        },
        **table, *ldl, tcqOptions);
    if (!states)
      return states.takeError();
    // Each column part is its own matrix of tiles (TcqSplit.h).
    unsigned parts = split ? 2 : 1;
    const int64_t partCols = cols / parts, tilesPerRow = cols / 16;
    for (unsigned part = 0; part < parts; ++part) {
      std::vector<uint16_t> partStates;
      partStates.reserve(states->size() / parts);
      for (int64_t tr = 0; tr < rows / 16; ++tr)
        for (int64_t tc = part * partCols / 16; tc < (part + 1) * partCols / 16;
             ++tc)
          partStates.insert(
              partStates.end(),
              states->begin() + (tr * tilesPerRow + tc) * kTcqStepsPerTile,
              states->begin() + (tr * tilesPerRow + tc + 1) * kTcqStepsPerTile);
      unsigned kv = part ? spec.kv2 : spec.kv1;
      auto streams = packTcqStreams(partStates, kv);
      if (!streams)
        return streams.takeError();
      auto packed = packTcqKernelLayout(*streams, rows, partCols, kv);
      if (!packed)
        return packed.takeError();
      layer.codes.insert(layer.codes.end(), packed->begin(), packed->end());
    }
    return layer;
  }
  if (info.codecKind() != CodecKind::Lut)
    return makeError(llvm::formatv(
        "quantizer '{0}': LDLQ rounds trellis and lookup-table codes only",
        spec.referenceName()));
  auto codebook = info.codebook(spec);
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
