//===- QuantizerSyntax.cpp - key = value syntax of quantizers -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "QuantizerSyntax.h"

#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/ADT/STLExtras.h"

#include <limits>

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

ParseResult
qpal::detail::parseQuantizerParams(AsmParser &parser, StringRef mnemonic,
                                   ArrayRef<ParamSpec> specs,
                                   MutableArrayRef<ParamValue> values) {
  auto expectedKeys = [&] {
    std::string keys;
    for (const ParamSpec &spec : specs)
      keys += (keys.empty() ? "'" : ", '") + spec.key.str() + "'";
    return keys;
  };
  if (parser.parseLess())
    return failure();
  if (failed(parser.parseOptionalGreater())) {
    do {
      SMLoc keyLoc = parser.getCurrentLocation();
      StringRef key;
      if (parser.parseKeyword(&key))
        return failure();
      const auto *it = llvm::find_if(
          specs, [&](const ParamSpec &spec) { return spec.key == key; });
      if (it == specs.end())
        return parser.emitError(keyLoc)
               << "unknown parameter '" << key << "' for #qpal." << mnemonic
               << ", expected one of " << expectedKeys();
      ParamValue &value = values[it - specs.begin()];
      if (value.present())
        return parser.emitError(keyLoc) << "parameter '" << key << "' of #qpal."
                                        << mnemonic << " is given twice";
      if (parser.parseEqual())
        return failure();
      SMLoc valueLoc = parser.getCurrentLocation();
      switch (it->kind) {
      case ParamKind::Unsigned: {
        int64_t number;
        if (parser.parseInteger(number))
          return failure();
        // Only what an unsigned parameter can hold is checked here; the
        // attribute's verifier names the range the quantizer accepts.
        if (number < 0 || number > std::numeric_limits<int32_t>::max())
          return parser.emitError(valueLoc)
                 << "parameter '" << key << "' of #qpal." << mnemonic
                 << " must be a non-negative 32-bit integer, got " << number;
        value.unsignedValue = static_cast<unsigned>(number);
        break;
      }
      case ParamKind::Float: {
        double number;
        if (parser.parseFloat(number))
          return failure();
        value.floatValue = number;
        break;
      }
      case ParamKind::KernelKind: {
        StringRef kind;
        if (parser.parseKeyword(&kind))
          return failure();
        if (kind == "tensor_core")
          value.kernelValue = KernelKind::TensorCore;
        else if (kind == "simt")
          value.kernelValue = KernelKind::Simt;
        else
          return parser.emitError(valueLoc)
                 << "expected 'tensor_core' or 'simt' for '" << key
                 << "' of #qpal." << mnemonic << ", got '" << kind << "'";
        break;
      }
      case ParamKind::TrellisCode: {
        std::string code;
        if (parser.parseKeywordOrString(&code))
          return failure();
        if (code == "lut")
          value.codeValue = TrellisCode::Lut;
        else if (code == "1mad")
          value.codeValue = TrellisCode::OneMad;
        else if (code == "3inst")
          value.codeValue = TrellisCode::ThreeInst;
        else
          return parser.emitError(valueLoc)
                 << "expected \"lut\", \"1mad\" or \"3inst\" for '" << key
                 << "' of #qpal." << mnemonic << ", got '" << code << "'";
        break;
      }
      case ParamKind::Rounding: {
        StringRef kind;
        if (parser.parseKeyword(&kind))
          return failure();
        if (kind == "none")
          value.roundingValue = false;
        else if (kind == "hess")
          value.roundingValue = true;
        else
          return parser.emitError(valueLoc)
                 << "expected 'none' or 'hess' for '" << key << "' of #qpal."
                 << mnemonic << ", got '" << kind << "'";
        break;
      }
      }
    } while (succeeded(parser.parseOptionalComma()));
    if (parser.parseGreater())
      return failure();
  }
  for (auto [spec, value] : llvm::zip_equal(specs, values))
    if (spec.required && !value.present())
      return parser.emitError(parser.getCurrentLocation())
             << "#qpal." << mnemonic << " expects the parameter '" << spec.key
             << "'";
  return success();
}

void QuantizerParamPrinter::printKey(StringRef key) {
  if (!first)
    printer << ", ";
  first = false;
  printer << key << " = ";
}

void QuantizerParamPrinter::print(StringRef key, unsigned value) {
  printKey(key);
  printer << value;
}

void QuantizerParamPrinter::print(StringRef key, double value) {
  printKey(key);
  // The shortest decimal that reads back as the same double (0.9, not
  // 9.000000e-01), so printed IR matches the reference names.
  printer << formatReferenceFloat(value);
}

void QuantizerParamPrinter::print(StringRef key, KernelKind value) {
  printKey(key);
  printer << stringifyKernelKind(value);
}

void QuantizerParamPrinter::print(StringRef key, TrellisCode value) {
  printKey(key);
  printer << '"' << stringifyTrellisCode(value) << '"';
}

void QuantizerParamPrinter::print(StringRef key, StringRef keyword) {
  printKey(key);
  printer << keyword;
}

static constexpr ParamSpec kLutParams[] = {
    {"bits", ParamKind::Unsigned, /*required=*/true},
    {"scale", ParamKind::Float, /*required=*/false},
    {"kernel", ParamKind::KernelKind, /*required=*/false},
    {"rounding", ParamKind::Rounding, /*required=*/false},
};

FailureOr<LutParams> qpal::detail::parseLutParams(AsmParser &parser,
                                                  StringRef mnemonic) {
  ParamValue values[std::size(kLutParams)];
  if (parseQuantizerParams(parser, mnemonic, kLutParams, values))
    return failure();
  return LutParams{*values[0].unsignedValue,
                   toAPFloat(values[1].floatValue.value_or(kDefaultLutScale)),
                   values[2].kernelValue.value_or(KernelKind::TensorCore),
                   values[3].roundingValue.value_or(false)};
}

void qpal::detail::printLutParams(AsmPrinter &printer, unsigned bits,
                                  const llvm::APFloat &scale, KernelKind kernel,
                                  bool hessian) {
  QuantizerParamPrinter params(printer);
  params.print("bits", bits);
  if (double value = scale.convertToDouble(); value != kDefaultLutScale)
    params.print("scale", value);
  if (kernel != KernelKind::TensorCore)
    params.print("kernel", kernel);
  if (hessian)
    params.print("rounding", StringRef("hess"));
}

LogicalResult
qpal::detail::verifySpec(function_ref<InFlightDiagnostic()> emitError,
                         StringRef mnemonic, const QuantizerSpec &spec) {
  if (llvm::Error err = spec.verify())
    return emitError() << "#qpal." << mnemonic << ": "
                       << llvm::toString(std::move(err));
  return success();
}
