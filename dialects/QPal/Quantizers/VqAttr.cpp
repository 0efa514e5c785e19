//===- VqAttr.cpp - #qpal.vq: syntax and verifier -------------------------===//
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

Attribute VqAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  FailureOr<LutParams> params = parseLutParams(parser, getMnemonic());
  if (failed(params))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    params->bits, params->scale, params->kernel,
                    params->hessian);
}

void VqAttr::print(AsmPrinter &printer) const {
  printLutParams(printer, getBits(), getScale(), getKernel(), getHessian());
}

LogicalResult VqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             unsigned bits, llvm::APFloat scale,
                             KernelKind kernel, bool hessian) {
  QuantizerSpec spec = QuantizerSpec::vq(bits, scale.convertToDouble(), kernel);
  spec.hessian = hessian;
  return verifySpec(emitError, getMnemonic(), spec);
}

QuantizerSpec VqAttr::getSpec() const {
  QuantizerSpec spec =
      QuantizerSpec::vq(getBits(), getScale().convertToDouble(), getKernel());
  spec.hessian = getHessian();
  return spec;
}

VqAttr VqAttr::fromSpec(MLIRContext *context, const QuantizerSpec &spec) {
  return get(context, spec.indexBits, llvm::APFloat(spec.scale), spec.kernel,
             spec.hessian);
}
