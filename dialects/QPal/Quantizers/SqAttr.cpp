//===- SqAttr.cpp - #qpal.sq: syntax, verifier, interface ------ ===//
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

static constexpr ParamSpec kSqParams[] = {
    {"bits", ParamKind::Unsigned, /*required=*/true},
    {"scale", ParamKind::Float, /*required=*/false},
    {"kernel", ParamKind::KernelKind, /*required=*/false},
};

Attribute SqAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  ParamValue values[std::size(kSqParams)];
  if (parseQuantizerParams(parser, getMnemonic(), kSqParams, values))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    *values[0].unsignedValue,
                    toAPFloat(values[1].floatValue.value_or(kDefaultLutScale)),
                    values[2].kernelValue.value_or(KernelKind::TensorCore));
}

void SqAttr::print(AsmPrinter &printer) const {
  QuantizerParamPrinter params(printer);
  params.print("bits", getBits());
  if (double scale = getScale().convertToDouble(); scale != kDefaultLutScale)
    params.print("scale", scale);
  if (getKernel() != KernelKind::TensorCore)
    params.print("kernel", getKernel());
}

LogicalResult SqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned bits, llvm::APFloat scale,
                              KernelKind kernel) {
  QuantizerSpec spec =
      QuantizerSpec::sq(bits, scale.convertToDouble(), kernel);
  if (llvm::Error err = spec.verify())
    return emitError() << "#qpal.sq: " << llvm::toString(std::move(err));
  return success();
}

QuantizerSpec SqAttr::getSpec() const {
  return QuantizerSpec::sq(getBits(), getScale().convertToDouble(),
                            getKernel());
}
