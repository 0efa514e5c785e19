//===- Limits.h - Bounds on the sizes user input controls -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The one place where sizes that come from the command line (matrix shapes,
// batches, code generation factors) are checked before anything is sized
// from them: a value past a bound is refused with a message that names the
// option and the bound, instead of an "out of memory" abort or an integer
// overflow in a later message. Products are checked without overflowing.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_SUPPORT_LIMITS_H
#define QPAL_SUPPORT_LIMITS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdint>

namespace qpal {

/// Rows or columns of one weight matrix: 2^20 (Llama-3.1-405B's largest is
/// 53248).
constexpr int64_t kMaxMatrixDim = int64_t{1} << 20;
/// Elements of one weight matrix: 2^31 (8 GiB as f32).
constexpr int64_t kMaxMatrixElements = int64_t{1} << 31;
/// Tokens of one kernel call or batch.
constexpr int64_t kMaxBatch = int64_t{1} << 16;

/// The largest per-layer sensitivity (loss increase per unit relative MSE)
/// accepted: measured ones are below 10^3; a sum over a model's layers of
/// values up to this bound stays finite.
constexpr double kMaxSensitivity = 1e30;

/// Whether `value` is a sensitivity MSQ can use: finite, in [0,
/// kMaxSensitivity].
inline bool isValidSensitivity(double value) {
  return value >= 0 && value <= kMaxSensitivity;
}

/// Fails unless lo <= value <= hi, naming `what` and the range.
inline llvm::Error checkBounds(llvm::StringRef what, int64_t value, int64_t lo,
                               int64_t hi) {
  if (value >= lo && value <= hi)
    return llvm::Error::success();
  return llvm::createStringError(
      llvm::formatv("{0} must be in [{1}, {2}], got {3}", what, lo, hi, value)
          .str());
}

/// Fails unless `rows` and `cols` are in [1, kMaxMatrixDim] and rows * cols
/// is at most kMaxMatrixElements (`what` names the options).
inline llvm::Error checkMatrixShape(llvm::StringRef what, int64_t rows,
                                    int64_t cols) {
  if (rows < 1 || cols < 1 || rows > kMaxMatrixDim || cols > kMaxMatrixDim)
    return llvm::createStringError(
        llvm::formatv("{0} must each be in [1, {1}], got {2} x {3}", what,
                      kMaxMatrixDim, rows, cols)
            .str());
  if (rows > kMaxMatrixElements / cols)
    return llvm::createStringError(
        llvm::formatv("{0}: a {1} x {2} matrix has more than {3} elements",
                      what, rows, cols, kMaxMatrixElements)
            .str());
  return llvm::Error::success();
}

} // namespace qpal

#endif // QPAL_SUPPORT_LIMITS_H
