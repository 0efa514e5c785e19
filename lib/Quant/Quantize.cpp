//===- Quantize.cpp - Whole-layer quantization and fake quant -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Quantize.h"

#include "Diagnostics.h"
#include "Parallel.h"
#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/Half.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/Random.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace qpal;

using detail::makeError;

/// Checks the spec and the shape of a weight it is applied to.
static llvm::Error checkSpecAndShape(const QuantizerSpec &spec, int64_t rows,
                                     int64_t cols) {
  if (auto err = spec.verify())
    return makeError(llvm::formatv("invalid quantizer {0}: {1}",
                                   spec.referenceName(),
                                   llvm::toString(std::move(err))));
  if (auto message = spec.checkShape(rows, cols))
    return makeError(*message);
  return llvm::Error::success();
}

/// Fails on the first non-finite weight.
static llvm::Error checkFinite(const float *weights, int64_t rows,
                               int64_t cols) {
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(weights[i]))
      return makeError(
          llvm::formatv("expects finite weights, got {0} at ({1}, {2})",
                        detail::formatValue(weights[i]), i / cols, i % cols));
  return llvm::Error::success();
}

/// The checks every entry point makes on its input: the quantizer and the
/// shape, a weight, finite values.
static llvm::Error checkLayerInput(const QuantizerSpec &spec,
                                   const float *weights, int64_t rows,
                                   int64_t cols) {
  if (auto err = checkSpecAndShape(spec, rows, cols))
    return err;
  if (!weights)
    return makeError("expects a weight, got a null pointer");
  return checkFinite(weights, rows, cols);
}

//===----------------------------------------------------------------------===//
// Codec dispatch
//===----------------------------------------------------------------------===//

llvm::Expected<std::vector<uint8_t>>
qpal::encodeNormalized(const QuantizerSpec &spec, const float *weights,
                       int64_t rows, int64_t cols,
                       const EncodeOptions &options) {
  if (auto err = checkLayerInput(spec, weights, rows, cols))
    return std::move(err);

  return spec.familyInfo().encode(spec, weights, rows, cols, options);
}

llvm::Expected<std::vector<float>>
qpal::decodeNormalized(const QuantizerSpec &spec, llvm::ArrayRef<uint8_t> codes,
                       int64_t rows, int64_t cols,
                       CodebookPrecision precision) {
  if (auto err = checkSpecAndShape(spec, rows, cols))
    return std::move(err);
  return spec.familyInfo().decode(spec, codes, rows, cols, precision);
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

float QuantizedLayer::scale(int64_t row) const {
  return halfBitsToFloat(scales[static_cast<size_t>(row)]);
}

/// The float32 denominator of the row scale: rms(lut) * s for TCQ with the
/// lookup table, s for VQ and SQ (quantizers.md, section 3.3) and for the
/// computed trellis codes, whose scales were chosen on unit-variance inputs
/// (`qpal palette --measure`) and whose tables are not unit-rms.
static llvm::Expected<float> scaleDenominator(const QuantizerSpec &spec) {
  float scale = static_cast<float>(spec.scale);
  const QuantizerFamilyInfo &info = spec.familyInfo();
  if (info.codecKind() != CodecKind::Trellis || spec.code != TrellisCode::Lut)
    return scale;
  auto table = info.trellisTable(spec);
  if (!table)
    return table.takeError();
  return static_cast<float>((*table)->rms()) * scale;
}

llvm::Expected<std::vector<float>>
qpal::normalizeLayer(const QuantizerSpec &spec, const float *weights,
                     int64_t rows, int64_t cols, const QuantizeOptions &options,
                     QuantizedLayer &layer) {
  if (auto err = checkLayerInput(spec, weights, rows, cols))
    return std::move(err);
  if (spec.family == QuantizerFamily::F16)
    return makeError("f16 layers are not normalized: quantizeLayer stores "
                     "their values");

  layer = QuantizedLayer();
  layer.spec = spec;
  layer.rows = rows;
  layer.cols = cols;
  // Step 1: the rotated weight Wr (float64 transform, float32 result).
  std::vector<float> normalized(weights, weights + rows * cols);
  std::optional<HadamardTransform> transform;
  if (options.rotate) {
    auto planned = HadamardTransform::create(cols);
    if (!planned)
      return planned.takeError();
    transform = *planned;
    if (!options.signs.empty()) {
      if (options.signs.size() != static_cast<size_t>(cols))
        return makeError(llvm::formatv(
            "expects a sign vector of {0} entries (one per column), got {1}",
            cols, options.signs.size()));
      for (size_t i = 0; i < options.signs.size(); ++i)
        if (options.signs[i] != 1.0f && options.signs[i] != -1.0f)
          return makeError(llvm::formatv(
              "expects sign vector entries of +1 or -1, got {0} at {1}",
              detail::formatValue(options.signs[i]), i));
      layer.signs = options.signs;
    } else {
      layer.signs = randomSigns(cols, options.seed);
    }
    layer.rotated = true;
  }

  auto denominator = scaleDenominator(spec);
  if (!denominator)
    return denominator.takeError();
  std::vector<float> rowScale(static_cast<size_t>(rows));
  unsigned workers =
      detail::resolveThreads(options.threads, static_cast<size_t>(rows));
  std::vector<std::vector<double>> buffers(
      workers, std::vector<double>(2 * static_cast<size_t>(cols)));
  detail::parallelFor(
      static_cast<size_t>(rows), workers, [&](unsigned worker, size_t row) {
        float *values = normalized.data() + row * cols;
        if (transform) {
          double *x = buffers[worker].data();
          for (int64_t c = 0; c < cols; ++c)
            x[c] = static_cast<double>(layer.signs[c]) * values[c];
          transform->apply(x, x + cols);
          for (int64_t c = 0; c < cols; ++c)
            values[c] = static_cast<float>(x[c]);
        }
        // Step 2: Wscale = fp32(rms64(Wr)) / denominator, Wn = Wr / Wscale.
        double sum = 0;
        for (int64_t c = 0; c < cols; ++c)
          sum += static_cast<double>(values[c]) * values[c];
        float rms = static_cast<float>(std::sqrt(sum / cols));
        float scale = rms / *denominator;
        rowScale[row] = scale;
        for (int64_t c = 0; c < cols; ++c)
          values[c] = scale == 0.0f ? 0.0f : values[c] / scale;
      });
  layer.scales.resize(static_cast<size_t>(rows));
  for (int64_t row = 0; row < rows; ++row) {
    if (!(rowScale[row] < 65520.0f))
      return makeError(llvm::formatv("the scale {0} of row {1} overflows fp16",
                                     detail::formatValue(rowScale[row]), row));
    layer.scales[row] = floatToHalfBits(rowScale[row]);
  }

  return normalized;
}

llvm::Expected<QuantizedLayer>
qpal::quantizeLayer(const QuantizerSpec &spec, const float *weights,
                    int64_t rows, int64_t cols,
                    const QuantizeOptions &options) {
  if (auto err = checkLayerInput(spec, weights, rows, cols))
    return std::move(err);
  if (spec.hessian)
    return makeError(llvm::formatv(
        "quantizer '{0}' rounds against the layer's input Hessian: quantize "
        "it with quantizeLayerWithHessian (qpal/Quant/Ldlq.h)",
        spec.referenceName()));

  EncodeOptions encodeOptions;
  encodeOptions.threads = options.threads;
  encodeOptions.simd = options.simd;
  QuantizedLayer layer;
  if (spec.family == QuantizerFamily::F16) {
    layer.spec = spec;
    layer.rows = rows;
    layer.cols = cols;
    auto codes = encodeNormalized(spec, weights, rows, cols, encodeOptions);
    if (!codes)
      return codes.takeError();
    layer.codes = std::move(*codes);
    return layer;
  }
  auto normalized = normalizeLayer(spec, weights, rows, cols, options, layer);
  if (!normalized)
    return normalized.takeError();
  // Step 3: encode and pack.
  auto codes =
      encodeNormalized(spec, normalized->data(), rows, cols, encodeOptions);
  if (!codes)
    return codes.takeError();
  layer.codes = std::move(*codes);
  return layer;
}

llvm::Expected<std::vector<float>>
qpal::dequantizeLayer(const QuantizedLayer &layer,
                      CodebookPrecision precision) {
  const int64_t rows = layer.rows, cols = layer.cols;
  auto decoded =
      decodeNormalized(layer.spec, layer.codes, rows, cols, precision);
  if (!decoded)
    return decoded.takeError();
  if (layer.spec.family == QuantizerFamily::F16)
    return decoded;
  if (layer.scales.size() != static_cast<size_t>(rows))
    return makeError(llvm::formatv("expects {0} row scales, got {1}", rows,
                                   layer.scales.size()));
  std::optional<HadamardTransform> transform;
  if (layer.rotated) {
    if (layer.signs.size() != static_cast<size_t>(cols))
      return makeError(llvm::formatv(
          "expects a sign vector of {0} entries (one per column), got {1}",
          cols, layer.signs.size()));
    auto planned = HadamardTransform::create(cols);
    if (!planned)
      return planned.takeError();
    transform = *planned;
  }
  std::vector<double> buffer(2 * static_cast<size_t>(cols));
  for (int64_t row = 0; row < rows; ++row) {
    float *values = decoded->data() + row * cols;
    double scale = layer.scale(row);
    double *x = buffer.data();
    for (int64_t c = 0; c < cols; ++c)
      x[c] = scale * values[c];
    if (transform) {
      transform->applyTranspose(x, x + cols);
      for (int64_t c = 0; c < cols; ++c)
        x[c] *= layer.signs[c];
    }
    for (int64_t c = 0; c < cols; ++c)
      values[c] = static_cast<float>(x[c]);
  }
  return decoded;
}
