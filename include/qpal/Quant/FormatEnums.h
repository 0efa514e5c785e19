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

/// The family of a palette quantizer (Families.def).
enum class QuantizerFamily : uint8_t {
#define QPAL_FAMILY(Name, Value, Mnemonic) Name = Value,
#include "qpal/Quant/Families.def"
};

/// Which execution units a lookup-table kernel uses.
enum class KernelKind : uint8_t {
  /// `mma.sync` tensor-core kernels (all families).
  TensorCore = 0,
  /// CUDA-core (SIMT) kernels: SQ and VQ only.
  Simt = 1,
};

/// How a trellis state becomes its two weights (TCQ and its column split).
enum class TrellisCode : uint8_t {
  /// The reference's `quantlut_sym`: a hash of the state indexes a 2-D
  /// lookup table (the shipped tlut).
  Lut = 0,
  /// Computed from the state (ComputedTrellis.h), no table: two 1MAD
  /// evaluations, each a sum of four bytes.
  OneMad = 1,
  /// Computed from the state: two 3INST evaluations, each the sum of two
  /// fp16 halves.
  ThreeInst = 2,
};

/// Returns the name of `code` as the quantizer-name suffix spells it
/// (`"lut"`, `"1mad"`, `"3inst"`).
constexpr const char *stringifyTrellisCode(TrellisCode code) {
  switch (code) {
  case TrellisCode::Lut:
    return "lut";
  case TrellisCode::OneMad:
    return "1mad";
  case TrellisCode::ThreeInst:
    return "3inst";
  }
  return "unknown";
}

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
#define QPAL_FAMILY(Name, Value, Mnemonic)                                     \
  case QuantizerFamily::Name:                                                  \
    return Mnemonic;
#include "qpal/Quant/Families.def"
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
