//===- Quantize.h - Whole-layer quantization and fake quant -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The layer pipeline of quantizers.md, section 2, for every palette family:
//
// 1. Rotate each row: Wr[r, :] = RHT(SU (.) W[r, :]) (Hadamard.h; computed in
//    float64, stored as float32).
// 2. Per-row scale (section 3.3): Wscale[r] = rms64(Wr[r, :]) / (rms(lut) s)
//    for TCQ and TcqSplit, rms64(Wr[r, :]) / s for VQ and SQ, evaluated in
//    float32 like the reference; Wn = Wr / Wscale.
// 3. Encode Wn and pack the codes in the spec's kernel layout.
//
// Inference computes y = Wscale (.) (Wn_hat RHT(SU (.) x)) with fp16
// codebooks and fp16 scales; `dequantizeLayer` returns that W_hat in the
// original basis, so a model evaluator can fake-quantize W -> W_hat.
//
// The codec-level `encodeNormalized` / `decodeNormalized` skip steps 1 and 2.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_QUANTIZE_H
#define QPAL_QUANT_QUANTIZE_H

#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Quant/Viterbi.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace qpal {

/// Options of the codec-level encoders.
struct EncodeOptions {
  /// Worker threads; 0 uses every hardware thread.
  unsigned threads = 0;
  /// The TCQ step kernel; unset picks the widest supported one.
  std::optional<SimdLevel> simd;
  /// For a `hess` quantizer (QuantizerSpec::hessian), which
  /// quantizeLayerWithHessian (Ldlq.h) quantizes: the second moment
  /// H = E[x x^T] of the layer's input, cols x cols, row-major, in the
  /// original (unrotated) basis. Ignored by `none` quantizers.
  llvm::ArrayRef<double> hessian;
};

/// Encodes a rows x cols normalized weight (row-major) with the shipped
/// codebook of `spec` and packs the codes in its kernel layout:
/// - Tcq: the TCQ kernel layout (Trellis.h);
/// - TcqSplit: the KV1 part, then the KV2 part (TcqSplit.h);
/// - Vq, Sq: the tensor-core layout, or the SIMT layout when `spec.kernel`
///   is Simt (LutQuantizers.h, SimtLayout.h);
/// - F16: the fp16 values, row-major, little-endian.
/// Fails when `spec.checkShape` rejects the shape, or on a null pointer or a
/// non-finite weight.
llvm::Expected<std::vector<uint8_t>>
encodeNormalized(const QuantizerSpec &spec, const float *weights, int64_t rows,
                 int64_t cols, const EncodeOptions &options = {});

/// Decodes the codes of `encodeNormalized` into the rows x cols normalized
/// weight, with the fp32 codebook (what the encoder reports) or the fp16
/// codebook (what the kernels multiply).
llvm::Expected<std::vector<float>>
decodeNormalized(const QuantizerSpec &spec, llvm::ArrayRef<uint8_t> codes,
                 int64_t rows, int64_t cols, CodebookPrecision precision);

/// A quantized linear layer y = W x, W of shape rows x cols.
struct QuantizedLayer {
  /// The quantizer.
  QuantizerSpec spec;
  /// M (output features) and K (input features).
  int64_t rows = 0;
  int64_t cols = 0;
  /// The packed codes, as `encodeNormalized` lays them out.
  std::vector<uint8_t> codes;
  /// The per-row scales Wscale as fp16 bit patterns (empty for f16).
  std::vector<uint16_t> scales;
  /// The input sign vector SU, +-1 per column (empty when not rotated).
  std::vector<float> signs;
  /// Whether the input side is rotated (always, except for f16 layers and
  /// layers quantized with `QuantizeOptions::rotate` off).
  bool rotated = false;

  /// Wscale[row] as a float.
  float scale(int64_t row) const;
};

/// Options of `quantizeLayer`.
struct QuantizeOptions {
  /// Worker threads; 0 uses every hardware thread.
  unsigned threads = 0;
  /// Seed of the sign vector (`randomSigns(cols, seed)`) when `signs` is
  /// empty.
  uint64_t seed = 0;
  /// An explicit sign vector SU (cols values of +-1), e.g. one shared by
  /// the q, k and v projections.
  std::vector<float> signs;
  /// Apply incoherence processing. Without it, Wn = W / Wscale directly.
  bool rotate = true;
  /// The TCQ step kernel; unset picks the widest supported one.
  std::optional<SimdLevel> simd;
  /// For a `hess` quantizer (QuantizerSpec::hessian), which
  /// quantizeLayerWithHessian (Ldlq.h) quantizes: the second moment
  /// H = E[x x^T] of the layer's input, cols x cols, row-major, in the
  /// original (unrotated) basis. Ignored by `none` quantizers.
  llvm::ArrayRef<double> hessian;
};

/// Steps 1-2 of quantizeLayer: fills `layer`'s spec, shape, sign vector and
/// row scales, and returns the normalized weight Wn (rows x cols) its codes
/// encode: Wn[r] = RHT(SU . W[r]) / Wscale[r] (without the rotation when
/// `options.rotate` is off). Not for f16.
llvm::Expected<std::vector<float>>
normalizeLayer(const QuantizerSpec &spec, const float *weights, int64_t rows,
               int64_t cols, const QuantizeOptions &options,
               QuantizedLayer &layer);

/// Quantizes a rows x cols weight (row-major) with `spec`. Fails, with a
/// message naming the rule and the value, on a shape that `spec` cannot
/// pack, a column count without a Hadamard transform, a null or non-finite
/// input, a malformed sign vector, or a row scale that overflows fp16; a
/// `hess` quantizer goes to quantizeLayerWithHessian (Ldlq.h) instead.
llvm::Expected<QuantizedLayer>
quantizeLayer(const QuantizerSpec &spec, const float *weights, int64_t rows,
              int64_t cols, const QuantizeOptions &options = {});

/// Returns the rows x cols W_hat of `layer` in the original (unrotated)
/// basis: SU (.) RHT^T(Wscale[r] Wn_hat[r, :]) per row, in float64, rounded
/// to float. The default precision is what the kernels compute with.
llvm::Expected<std::vector<float>>
dequantizeLayer(const QuantizedLayer &layer,
                CodebookPrecision precision = CodebookPrecision::Fp16);

} // namespace qpal

#endif // QPAL_QUANT_QUANTIZE_H
