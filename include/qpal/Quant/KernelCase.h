//===- KernelCase.h - Seeded inputs and reference of a kernel ---*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The inputs of one dequant-matmul kernel call, y[n][m] += s[m] * sum_k
// W_hat[m][k] x[n][k], drawn from a seed, and the float64 reference product
// that every generated kernel (CPU or GPU) is checked against. `qpal kernel
// --check` and the MLIR-free GPU check program both draw their cases here,
// so the two agree on what a correct kernel computes.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_KERNELCASE_H
#define QPAL_QUANT_KERNELCASE_H

#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qpal {

/// One kernel call's arguments and, optionally, its reference.
struct KernelCase {
  int64_t rows = 0, cols = 0, batch = 0;
  /// Packed codes: uniformly random bytes. Every byte string is a valid
  /// code buffer of the palette's layouts, so random codes reach every
  /// trellis state and codeword.
  std::vector<uint8_t> codes;
  /// The shipped codebook, fp16 values widened to f32.
  std::vector<float> codebook;
  /// Row scales in [0.5, 1.5), activations [batch][cols] and the initial
  /// output [batch][rows], both standard normal (never zeros).
  std::vector<float> scales, x, y0;
  /// With the reference: lib/Quant's decode W_hat [rows][cols] (fp16
  /// codebook) and s * (W_hat x) [batch][rows] in float64.
  std::vector<float> decoded;
  std::vector<double> product;
};

/// Draws the case of (`spec`, rows x cols, batch) from `seed`; with
/// `withReference`, also decodes the codes and computes the product (on
/// `threads` threads, 0 = all).
llvm::Expected<KernelCase> makeKernelCase(const QuantizerSpec &spec,
                                          int64_t rows, int64_t cols,
                                          int64_t batch, uint64_t seed,
                                          bool withReference,
                                          unsigned threads = 0);

/// max |y - (y0 + product)| / max |product| over the case's outputs; NaN if
/// any output is NaN (a NaN never passes a threshold).
double maxRelativeError(const KernelCase &kernelCase, llvm::ArrayRef<float> y);

} // namespace qpal

#endif // QPAL_QUANT_KERNELCASE_H
