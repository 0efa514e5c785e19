//===- KernelCase.cpp - Seeded inputs and reference of a kernel ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/KernelCase.h"

#include "Parallel.h"
#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/Quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace qpal;

llvm::Expected<KernelCase> qpal::makeKernelCase(const QuantizerSpec &spec,
                                                int64_t rows, int64_t cols,
                                                int64_t batch, uint64_t seed,
                                                bool withReference,
                                                unsigned threads) {
  if (rows <= 0 || cols <= 0 || batch <= 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "a kernel case needs positive rows, columns and batch, got %lld x "
        "%lld, batch %lld",
        static_cast<long long>(rows), static_cast<long long>(cols),
        static_cast<long long>(batch));
  KernelCase data;
  data.rows = rows;
  data.cols = cols;
  data.batch = batch;
  std::mt19937_64 rng(seed);
  data.codes.resize(spec.codeBytes(rows, cols));
  for (uint8_t &byte : data.codes)
    byte = static_cast<uint8_t>(rng());
  llvm::Expected<llvm::ArrayRef<float>> values = kernelCodebookValues(spec);
  if (!values)
    return values.takeError();
  data.codebook.assign(values->begin(), values->end());
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  data.scales.resize(rows);
  for (float &s : data.scales)
    s = uniform(rng);
  data.x.resize(batch * cols);
  for (float &v : data.x)
    v = normal(rng);
  data.y0.resize(batch * rows);
  for (float &v : data.y0)
    v = normal(rng);
  if (!withReference)
    return data;

  llvm::Expected<std::vector<float>> decoded =
      decodeNormalized(spec, data.codes, rows, cols, CodebookPrecision::Fp16);
  if (!decoded)
    return decoded.takeError();
  data.decoded = std::move(*decoded);
  data.product.assign(batch * rows, 0.0);
  unsigned workers = detail::resolveThreads(threads, rows);
  detail::parallelFor(rows, workers, [&](unsigned, size_t m) {
    const float *w = &data.decoded[m * cols];
    for (int64_t n = 0; n < batch; ++n) {
      const float *x = &data.x[n * cols];
      double sum = 0;
      for (int64_t k = 0; k < cols; ++k)
        sum += static_cast<double>(w[k]) * x[k];
      data.product[n * rows + m] = sum * data.scales[m];
    }
  });
  return data;
}

double qpal::maxRelativeError(const KernelCase &data, llvm::ArrayRef<float> y) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    double error = std::abs(y[i] - (data.y0[i] + data.product[i]));
    if (std::isnan(error))
      return std::numeric_limits<double>::quiet_NaN();
    worst = std::max(worst, error);
    scale = std::max(scale, std::abs(data.product[i]));
  }
  return scale > 0 ? worst / scale : worst;
}
