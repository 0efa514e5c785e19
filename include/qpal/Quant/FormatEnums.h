//===- FormatEnums.h - Enums shared by compiler and runtime -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Enums that describe quantizer families and kernel kinds. This header uses
// only the C++ standard library so that the runtime (which never links MLIR
// or LLVM) can include it next to the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_FORMATENUMS_H
#define QPAL_QUANT_FORMATENUMS_H

#include <cstdint>

namespace qpal {

/// The family of a palette quantizer.
enum class QuantizerFamily : uint8_t {
  /// Not quantized: the weight is stored as fp16.
  F16 = 0,
  /// Bitshift-trellis coded quantizer (QTIP-style), KV bits per 2 weights.
  Tcq = 1,
  /// Two TCQ rates split over the input columns (reference name `tcomb`).
  TcqSplit = 2,
  /// 2-D vector quantizer with a fixed Gaussian k-means codebook.
  Vq = 3,
  /// Non-uniform scalar quantizer with a fixed Gaussian k-means codebook.
  Sq = 4,
};

/// Which execution units a lookup-table kernel uses.
enum class KernelKind : uint8_t {
  /// `mma.sync` tensor-core kernels (all families).
  TensorCore = 0,
  /// CUDA-core (SIMT) kernels: SQ and VQ only.
  Simt = 1,
};

/// The kernel family that implements a quantizer's dequant-matmul.
enum class KernelFamily : uint8_t {
  Dense = 0,
  TcqTensorCore = 1,
  VqTensorCore = 2,
  SqTensorCore = 3,
  VqSimt = 4,
  SqSimt = 5,
};

/// Returns the stable lowercase name of `family` (`"tcq"`, `"tcq_split"`,
/// ...), as used by the dialect mnemonics and the JSON output.
constexpr const char *stringifyQuantizerFamily(QuantizerFamily family) {
  switch (family) {
  case QuantizerFamily::F16:
    return "f16";
  case QuantizerFamily::Tcq:
    return "tcq";
  case QuantizerFamily::TcqSplit:
    return "tcq_split";
  case QuantizerFamily::Vq:
    return "vq";
  case QuantizerFamily::Sq:
    return "sq";
  }
  return "unknown";
}

/// Returns the stable name of `kind` (`"tensor_core"` or `"simt"`).
constexpr const char *stringifyKernelKind(KernelKind kind) {
  return kind == KernelKind::Simt ? "simt" : "tensor_core";
}

/// Returns the stable name of `family` (`"tcq_tc"`, `"sq_simt"`, ...).
constexpr const char *stringifyKernelFamily(KernelFamily family) {
  switch (family) {
  case KernelFamily::Dense:
    return "dense";
  case KernelFamily::TcqTensorCore:
    return "tcq_tc";
  case KernelFamily::VqTensorCore:
    return "vq_tc";
  case KernelFamily::SqTensorCore:
    return "sq_tc";
  case KernelFamily::VqSimt:
    return "vq_simt";
  case KernelFamily::SqSimt:
    return "sq_simt";
  }
  return "unknown";
}

} // namespace qpal

#endif // QPAL_QUANT_FORMATENUMS_H
