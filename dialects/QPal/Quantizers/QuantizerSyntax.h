//===- QuantizerSyntax.h - key = value syntax of quantizers -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Quantizer attributes print as `#qpal.tcq<kv = 6, scale = 0.8>`: a list of
// `key = value` pairs in any order, where parameters equal to their default
// are omitted. These helpers parse and print that list once for all
// quantizer attributes.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_DIALECTS_QPAL_QUANTIZERS_QUANTIZERSYNTAX_H
#define QPAL_DIALECTS_QPAL_QUANTIZERS_QUANTIZERSYNTAX_H

#include "qpal/Quant/FormatEnums.h"
#include "qpal/Quant/QuantizerSpec.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/APFloat.h"

#include <optional>

namespace qpal::detail {

/// The value kinds a quantizer parameter can have.
enum class ParamKind { Unsigned, Float, KernelKind, Rounding, TrellisCode };

/// One parameter of a quantizer's syntax.
struct ParamSpec {
  llvm::StringLiteral key;
  ParamKind kind;
  bool required;
};

/// The parsed values, indexed like the `ParamSpec` list.
struct ParamValue {
  std::optional<unsigned> unsignedValue;
  std::optional<double> floatValue;
  std::optional<KernelKind> kernelValue;
  /// `rounding`: true for `hess`, false for `none`.
  std::optional<bool> roundingValue;
  std::optional<TrellisCode> codeValue;
  bool present() const {
    return unsignedValue || floatValue || kernelValue || roundingValue ||
           codeValue;
  }
};

/// Parses `<key = value, ...>` for the parameters `specs` of the attribute
/// `mnemonic`; reports unknown, repeated and missing keys.
mlir::ParseResult
parseQuantizerParams(mlir::AsmParser &parser, llvm::StringRef mnemonic,
                     llvm::ArrayRef<ParamSpec> specs,
                     llvm::MutableArrayRef<ParamValue> values);

/// Prints `key = value`, preceded by `, ` unless it is the first parameter.
class QuantizerParamPrinter {
public:
  explicit QuantizerParamPrinter(mlir::AsmPrinter &printer) : printer(printer) {
    printer << "<";
  }
  ~QuantizerParamPrinter() { printer << ">"; }
  void print(llvm::StringRef key, unsigned value);
  void print(llvm::StringRef key, double value);
  void print(llvm::StringRef key, KernelKind value);
  void print(llvm::StringRef key, llvm::StringRef keyword);
  void print(llvm::StringRef key, TrellisCode value);

private:
  void printKey(llvm::StringRef key);
  mlir::AsmPrinter &printer;
  bool first = true;
};

/// The `bits`, `scale`, `kernel`, `rounding` parameters of the lookup-table
/// quantizers (`#qpal.sq`, `#qpal.vq`).
struct LutParams {
  unsigned bits;
  llvm::APFloat scale;
  KernelKind kernel;
  bool hessian;
};

/// Parses `<bits = b[, scale = s][, kernel = k][, rounding = none|hess]>`.
mlir::FailureOr<LutParams> parseLutParams(mlir::AsmParser &parser,
                                          llvm::StringRef mnemonic);

/// Prints the parameters of a lookup-table quantizer, defaults elided.
void printLutParams(mlir::AsmPrinter &printer, unsigned bits,
                    const llvm::APFloat &scale, KernelKind kernel,
                    bool hessian);

/// Reports `spec`'s invalid parameter as `#qpal.<mnemonic>: <message>`.
mlir::LogicalResult
verifySpec(llvm::function_ref<mlir::InFlightDiagnostic()> emitError,
           llvm::StringRef mnemonic, const QuantizerSpec &spec);

/// Returns `value` as an IEEE double APFloat.
inline llvm::APFloat toAPFloat(double value) { return llvm::APFloat(value); }

} // namespace qpal::detail

#endif // QPAL_DIALECTS_QPAL_QUANTIZERS_QUANTIZERSYNTAX_H
