//===- TcqAttr.cpp - #qpal.tcq: syntax, verifier, interface ------ ===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "DecodeSupport.h"
#include "QuantizerSyntax.h"
#include "TcqDecode.h"
#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

static constexpr ParamSpec kTcqParams[] = {
    {"kv", ParamKind::Unsigned, /*required=*/true},
    {"tlut_bits", ParamKind::Unsigned, /*required=*/false},
    {"scale", ParamKind::Float, /*required=*/false},
};

Attribute TcqAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  ParamValue values[std::size(kTcqParams)];
  if (parseQuantizerParams(parser, getMnemonic(), kTcqParams, values))
    return {};
  unsigned kv = *values[0].unsignedValue;
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    kv, values[1].unsignedValue.value_or(defaultTlutBits(kv)),
                    toAPFloat(values[2].floatValue.value_or(kDefaultTcqScale)));
}

void TcqAttr::print(AsmPrinter &printer) const {
  QuantizerParamPrinter params(printer);
  params.print("kv", getKv());
  if (getTlutBits() != defaultTlutBits(getKv()))
    params.print("tlut_bits", getTlutBits());
  if (double scale = getScale().convertToDouble(); scale != kDefaultTcqScale)
    params.print("scale", scale);
}

LogicalResult TcqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned kv, unsigned tlutBits,
                              llvm::APFloat scale) {
  QuantizerSpec spec =
      QuantizerSpec::tcq(kv, tlutBits, scale.convertToDouble());
  return verifySpec(emitError, getMnemonic(), spec);
}

QuantizerSpec TcqAttr::getSpec() const {
  return QuantizerSpec::tcq(getKv(), getTlutBits(),
                            getScale().convertToDouble());
}

//===----------------------------------------------------------------------===//
// Code generation
//===----------------------------------------------------------------------===//

unsigned TcqAttr::getLaneSegmentBytes(unsigned part) const {
  // 4 tiles x 4 steps x KV bits.
  return 2 * getKv();
}

uint64_t TcqAttr::getPartByteOffset(int64_t rows, int64_t cols,
                                    unsigned part) const {
  return 0;
}

LogicalResult
TcqAttr::emitLaneDecode(OpBuilder &builder, Location loc,
                        const LaneDecodeArgs &args,
                        SmallVectorImpl<DecodedPair> &pairs) const {
  emitTcqLaneDecode(builder, loc, args, getKv(), getTlutBits(), pairs);
  return success();
}

unsigned TcqAttr::getPackedPairEntries() const {
  return static_cast<unsigned>(getSpec().codebookBytes() / 4);
}

Value TcqAttr::emitPackedPairEntry(OpBuilder &builder, Location loc,
                                   Value codebook, Value entry) const {
  // Entry e is codebook pair e: values 2e and 2e + 1.
  Value first = arith::MulIOp::create(
      builder, loc, entry, arith::ConstantIndexOp::create(builder, loc, 2));
  Value second = arith::AddIOp::create(
      builder, loc, first, arith::ConstantIndexOp::create(builder, loc, 1));
  return detail::emitPackHalves(
      builder, loc, memref::LoadOp::create(builder, loc, codebook, first),
      memref::LoadOp::create(builder, loc, codebook, second));
}
