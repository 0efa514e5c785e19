//===- TcqSplitAttr.cpp - #qpal.tcq_split: syntax and verifier ------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "QuantizerSyntax.h"
#include "qpal/Dialect/QPal/QPalDialect.h"

#include <algorithm>

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

static constexpr ParamSpec kTcqSplitParams[] = {
    {"kv1", ParamKind::Unsigned, /*required=*/true},
    {"kv2", ParamKind::Unsigned, /*required=*/true},
    {"tlut_bits", ParamKind::Unsigned, /*required=*/false},
    {"scale", ParamKind::Float, /*required=*/false},
    {"rounding", ParamKind::Rounding, /*required=*/false},
    {"code", ParamKind::TrellisCode, /*required=*/false},
};

Attribute TcqSplitAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  ParamValue values[std::size(kTcqSplitParams)];
  if (parseQuantizerParams(parser, getMnemonic(), kTcqSplitParams, values))
    return {};
  unsigned kv1 = *values[0].unsignedValue, kv2 = *values[1].unsignedValue;
  return getChecked(
      [&] { return parser.emitError(loc); }, parser.getContext(), kv1, kv2,
      values[2].unsignedValue.value_or(defaultTlutBits(std::max(kv1, kv2))),
      toAPFloat(values[3].floatValue.value_or(kDefaultTcqScale)),
      values[4].roundingValue.value_or(false),
      values[5].codeValue.value_or(TrellisCode::Lut));
}

void TcqSplitAttr::print(AsmPrinter &printer) const {
  QuantizerParamPrinter params(printer);
  params.print("kv1", getKv1());
  params.print("kv2", getKv2());
  if (getTlutBits() != defaultTlutBits(std::max(getKv1(), getKv2())))
    params.print("tlut_bits", getTlutBits());
  if (double scale = getScale().convertToDouble(); scale != kDefaultTcqScale)
    params.print("scale", scale);
  if (getHessian())
    params.print("rounding", StringRef("hess"));
  if (getCode() != TrellisCode::Lut)
    params.print("code", getCode());
}

LogicalResult TcqSplitAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   unsigned kv1, unsigned kv2,
                                   unsigned tlutBits, llvm::APFloat scale,
                                   bool hessian, TrellisCode code) {
  QuantizerSpec spec =
      QuantizerSpec::tcqSplit(kv1, kv2, tlutBits, scale.convertToDouble());
  spec.hessian = hessian;
  spec.code = code;
  return verifySpec(emitError, getMnemonic(), spec);
}

QuantizerSpec TcqSplitAttr::getSpec() const {
  QuantizerSpec spec = QuantizerSpec::tcqSplit(
      getKv1(), getKv2(), getTlutBits(), getScale().convertToDouble());
  spec.hessian = getHessian();
  spec.code = getCode();
  return spec;
}

TcqSplitAttr TcqSplitAttr::fromSpec(MLIRContext *context,
                                    const QuantizerSpec &spec) {
  return get(context, spec.kv1, spec.kv2, spec.tlutBits,
             llvm::APFloat(spec.scale), spec.hessian, spec.code);
}
