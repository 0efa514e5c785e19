//===- Diagnostics.h - Error helpers of the codecs --------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Error construction shared by the lib/Quant sources. Private to lib/Quant.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_QUANT_DIAGNOSTICS_H
#define QPAL_LIB_QUANT_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdio>
#include <string>

namespace qpal::detail {

/// An llvm::Error carrying `message` (lowercase, no trailing period).
inline llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Formats a value for a message: the shortest `%g` form that keeps float
/// precision ("0.5", "70000", "1e+30", "nan").
inline std::string formatValue(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

} // namespace qpal::detail

#endif // QPAL_LIB_QUANT_DIAGNOSTICS_H
