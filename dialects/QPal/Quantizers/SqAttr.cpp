//===- SqAttr.cpp - #qpal.sq: syntax and verifier -------------------------===//
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

Attribute SqAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  FailureOr<LutParams> params = parseLutParams(parser, getMnemonic());
  if (failed(params))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    params->bits, params->scale, params->kernel);
}

void SqAttr::print(AsmPrinter &printer) const {
  printLutParams(printer, getBits(), getScale(), getKernel());
}

LogicalResult SqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             unsigned bits, llvm::APFloat scale,
                             KernelKind kernel) {
  return verifySpec(emitError, getMnemonic(),
                    QuantizerSpec::sq(bits, scale.convertToDouble(), kernel));
}

QuantizerSpec SqAttr::getSpec() const {
  return QuantizerSpec::sq(getBits(), getScale().convertToDouble(),
                           getKernel());
}
