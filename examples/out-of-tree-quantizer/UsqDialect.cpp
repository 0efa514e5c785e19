//===- UsqDialect.cpp - The usq dialect and #usq.uniform ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The attribute only describes the quantizer: `getSpec` and `fromSpec` map
// it to and from lib/Quant's spec, and qpal's quantizer interface derives
// every other property (rates, bytes, shapes, distortion, names) from the
// spec.
//
//===----------------------------------------------------------------------===//

#include "Usq.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace usq;

#include "Usq.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "UsqAttrs.cpp.inc"

void UsqDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "UsqAttrs.cpp.inc"
      >();
  attachUsqDecodeModels(getContext());
}

//===----------------------------------------------------------------------===//
// #usq.uniform<bits = B[, scale = S][, rounding = none|hess]>
//===----------------------------------------------------------------------===//

Attribute UniformAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  unsigned bits = 0;
  double scale = 1.0;
  bool hessian = false;
  if (parser.parseLess() || parser.parseKeyword("bits") ||
      parser.parseEqual() || parser.parseInteger(bits))
    return {};
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "scale") {
      if (parser.parseFloat(scale))
        return {};
    } else if (key == "rounding") {
      StringRef rounding;
      SMLoc at = parser.getCurrentLocation();
      if (parser.parseKeyword(&rounding))
        return {};
      if (rounding != "none" && rounding != "hess") {
        parser.emitError(at)
            << "expected 'none' or 'hess', got '" << rounding << "'";
        return {};
      }
      hessian = rounding == "hess";
    } else {
      parser.emitError(parser.getCurrentLocation())
          << "unknown #usq.uniform parameter '" << key
          << "' (expected scale or rounding)";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    bits, llvm::APFloat(scale), hessian);
}

void UniformAttr::print(AsmPrinter &printer) const {
  printer << "<bits = " << getBits();
  if (getScale().convertToDouble() != 1.0)
    printer << ", scale = "
            << qpal::formatReferenceFloat(getScale().convertToDouble());
  if (getHessian())
    printer << ", rounding = hess";
  printer << ">";
}

LogicalResult UniformAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  unsigned bits, llvm::APFloat scale,
                                  bool hessian) {
  qpal::QuantizerSpec spec =
      qpal::QuantizerSpec::lut(kUsqFamily, bits, scale.convertToDouble());
  spec.hessian = hessian;
  if (llvm::Error err = spec.verify())
    return emitError() << "#usq.uniform: " << llvm::toString(std::move(err));
  return success();
}

qpal::QuantizerSpec UniformAttr::getSpec() const {
  qpal::QuantizerSpec spec = qpal::QuantizerSpec::lut(
      kUsqFamily, getBits(), getScale().convertToDouble());
  spec.hessian = getHessian();
  return spec;
}

UniformAttr UniformAttr::fromSpec(MLIRContext *context,
                                  const qpal::QuantizerSpec &spec) {
  return get(context, spec.indexBits, llvm::APFloat(spec.scale), spec.hessian);
}
