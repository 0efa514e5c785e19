//===- VqAttr.cpp - #qpal.vq: syntax, verifier, interface ------ ===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "QuantizerSyntax.h"
#include "qpal/Dialect/QPal/QPalDialect.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

static constexpr ParamSpec kVqParams[] = {
    {"bits", ParamKind::Unsigned, /*required=*/true},
    {"scale", ParamKind::Float, /*required=*/false},
    {"kernel", ParamKind::KernelKind, /*required=*/false},
};

Attribute VqAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  ParamValue values[std::size(kVqParams)];
  if (parseQuantizerParams(parser, getMnemonic(), kVqParams, values))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *values[0].unsignedValue,
                    toAPFloat(values[1].floatValue.value_or(kDefaultLutScale)),
                    values[2].kernelValue.value_or(KernelKind::TensorCore));
}

void VqAttr::print(AsmPrinter &printer) const {
  QuantizerParamPrinter params(printer);
  params.print("bits", getBits());
  if (double scale = getScale().convertToDouble(); scale != kDefaultLutScale)
    params.print("scale", scale);
  if (getKernel() != KernelKind::TensorCore)
    params.print("kernel", getKernel());
}

LogicalResult VqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned bits, llvm::APFloat scale,
                              KernelKind kernel) {
  QuantizerSpec spec =
      QuantizerSpec::vq(bits, scale.convertToDouble(), kernel);
  if (llvm::Error err = spec.verify())
    return emitError() << "#qpal.vq: " << llvm::toString(std::move(err));
  return success();
}

QuantizerSpec VqAttr::getSpec() const {
  return QuantizerSpec::vq(getBits(), getScale().convertToDouble(),
                            getKernel());
}
