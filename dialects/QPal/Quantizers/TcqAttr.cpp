//===- TcqAttr.cpp - #qpal.tcq: syntax and verifier -----------------------===//
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

static constexpr ParamSpec kTcqParams[] = {
    {"kv", ParamKind::Unsigned, /*required=*/true},
    {"tlut_bits", ParamKind::Unsigned, /*required=*/false},
    {"scale", ParamKind::Float, /*required=*/false},
    {"rounding", ParamKind::Rounding, /*required=*/false},
    {"code", ParamKind::TrellisCode, /*required=*/false},
};

Attribute TcqAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  ParamValue values[std::size(kTcqParams)];
  if (parseQuantizerParams(parser, getMnemonic(), kTcqParams, values))
    return {};
  unsigned kv = *values[0].unsignedValue;
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    kv, values[1].unsignedValue.value_or(defaultTlutBits(kv)),
                    toAPFloat(values[2].floatValue.value_or(kDefaultTcqScale)),
                    values[3].roundingValue.value_or(false),
                    values[4].codeValue.value_or(TrellisCode::Lut));
}

void TcqAttr::print(AsmPrinter &printer) const {
  QuantizerParamPrinter params(printer);
  params.print("kv", getKv());
  if (getTlutBits() != defaultTlutBits(getKv()))
    params.print("tlut_bits", getTlutBits());
  if (double scale = getScale().convertToDouble(); scale != kDefaultTcqScale)
    params.print("scale", scale);
  if (getHessian())
    params.print("rounding", StringRef("hess"));
  if (getCode() != TrellisCode::Lut)
    params.print("code", getCode());
}

LogicalResult TcqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned kv, unsigned tlutBits,
                              llvm::APFloat scale, bool hessian,
                              TrellisCode code) {
  QuantizerSpec spec =
      QuantizerSpec::tcq(kv, tlutBits, scale.convertToDouble());
  spec.hessian = hessian;
  spec.code = code;
  return verifySpec(emitError, getMnemonic(), spec);
}

QuantizerSpec TcqAttr::getSpec() const {
  QuantizerSpec spec =
      QuantizerSpec::tcq(getKv(), getTlutBits(), getScale().convertToDouble());
  spec.hessian = getHessian();
  spec.code = getCode();
  return spec;
}

TcqAttr TcqAttr::fromSpec(MLIRContext *context, const QuantizerSpec &spec) {
  return get(context, spec.kv1, spec.tlutBits, llvm::APFloat(spec.scale),
             spec.hessian, spec.code);
}
