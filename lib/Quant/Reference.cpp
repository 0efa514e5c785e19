//===- Reference.cpp - CPU oracle of the dequant-matmul kernels -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Reference.h"

#include "qpal/Quant/Hadamard.h"

#include "llvm/Support/FormatVariadic.h"

#include <optional>

using namespace qpal;

namespace {
/// Runs the oracle in arithmetic type T.
template <typename T>
llvm::Expected<std::vector<T>> matmul(const QuantizedLayer &layer,
                                      llvm::ArrayRef<T> inputs, int64_t batch,
                                      CodebookPrecision precision) {
  const int64_t rows = layer.rows, cols = layer.cols;
  if (batch <= 0 ||
      inputs.size() != static_cast<size_t>(batch) * static_cast<size_t>(cols))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("reference matmul: expects a positive batch of {0}-value "
                      "inputs, got {1} values for a batch of {2}",
                      cols, inputs.size(), batch));
  auto decoded =
      decodeNormalized(layer.spec, layer.codes, rows, cols, precision);
  if (!decoded)
    return decoded.takeError();
  const bool dense = layer.spec.family == QuantizerFamily::F16;
  if (!dense && layer.scales.size() != static_cast<size_t>(rows))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("reference matmul: expects {0} row scales, got {1}", rows,
                      layer.scales.size()));
  std::optional<HadamardTransform> transform;
  if (!dense && layer.rotated) {
    if (layer.signs.size() != static_cast<size_t>(cols))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("reference matmul: expects a sign vector of {0} "
                        "entries, got {1}",
                        cols, layer.signs.size()));
    auto planned = HadamardTransform::create(cols);
    if (!planned)
      return planned.takeError();
    transform = *planned;
  }

  std::vector<T> outputs(static_cast<size_t>(batch * rows));
  std::vector<T> rotated(2 * static_cast<size_t>(cols));
  for (int64_t b = 0; b < batch; ++b) {
    const T *x = inputs.data() + b * cols;
    T *input = rotated.data();
    for (int64_t c = 0; c < cols; ++c)
      input[c] = transform ? static_cast<T>(layer.signs[c]) * x[c] : x[c];
    if (transform)
      transform->apply(input, input + cols);
    for (int64_t r = 0; r < rows; ++r) {
      const float *w = decoded->data() + r * cols;
      T sum = 0;
      for (int64_t c = 0; c < cols; ++c)
        sum += static_cast<T>(w[c]) * input[c];
      outputs[b * rows + r] =
          dense ? sum : static_cast<T>(layer.scale(r)) * sum;
    }
  }
  return outputs;
}
} // namespace

llvm::Expected<std::vector<double>>
qpal::referenceMatmul(const QuantizedLayer &layer,
                      llvm::ArrayRef<double> inputs, int64_t batch,
                      CodebookPrecision precision) {
  return matmul<double>(layer, inputs, batch, precision);
}

llvm::Expected<std::vector<float>>
qpal::referenceMatmulF32(const QuantizedLayer &layer,
                         llvm::ArrayRef<float> inputs, int64_t batch,
                         CodebookPrecision precision) {
  return matmul<float>(layer, inputs, batch, precision);
}
