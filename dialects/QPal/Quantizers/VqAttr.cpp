//===- VqAttr.cpp - #qpal.vq: syntax, verifier, interface ------ ===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "DecodeSupport.h"
#include "QuantizerSyntax.h"
#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

Attribute VqAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  FailureOr<LutParams> params = parseLutParams(parser, getMnemonic());
  if (failed(params))
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    params->bits, params->scale, params->kernel);
}

void VqAttr::print(AsmPrinter &printer) const {
  printLutParams(printer, getBits(), getScale(), getKernel());
}

LogicalResult VqAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             unsigned bits, llvm::APFloat scale,
                             KernelKind kernel) {
  return verifySpec(emitError, getMnemonic(),
                    QuantizerSpec::vq(bits, scale.convertToDouble(), kernel));
}

QuantizerSpec VqAttr::getSpec() const {
  return QuantizerSpec::vq(getBits(), getScale().convertToDouble(),
                           getKernel());
}

//===----------------------------------------------------------------------===//
// Code generation
//===----------------------------------------------------------------------===//

unsigned VqAttr::getLaneSegmentBytes(unsigned part) const {
  // 4 tiles x 4 two-dimensional codes x b bits.
  return getKernel() == KernelKind::TensorCore ? 2 * getBits() : 0;
}

uint64_t VqAttr::getPartByteOffset(int64_t rows, int64_t cols,
                                   unsigned part) const {
  return 0;
}

LogicalResult
VqAttr::emitLaneDecode(OpBuilder &builder, Location loc,
                       const LaneDecodeArgs &args,
                       SmallVectorImpl<DecodedPair> &pairs) const {
  if (getKernel() != KernelKind::TensorCore)
    return emitError(loc) << getSpec().referenceName()
                          << " stores its codes in the SIMT layout, not the "
                             "tensor-core one";
  // Tile q's chunk holds the lane's 4 codes (register j = code i), LSB-first:
  // code i at bits [q*4b + i*b, +b) of the lane's segment.
  unsigned bits = getBits();
  Value segment = args.segmentOffset(builder, loc, 0);
  for (unsigned tile = 0; tile < 4; ++tile)
    for (unsigned code = 0; code < 4; ++code) {
      Value index = detail::emitLoadBitsLE(builder, loc, args.codes, segment,
                                           tile * 4 * bits + code * bits, bits,
                                           args.codeWords);
      if (args.packedPairs.table) {
        pairs.push_back({tile, code, Value(), Value(),
                         detail::emitPackedPairLoad(builder, loc,
                                                    args.packedPairs, index)});
        continue;
      }
      pairs.push_back(
          {tile, code,
           detail::emitCodebookLoad(builder, loc, args, index, 2, 0),
           detail::emitCodebookLoad(builder, loc, args, index, 2, 1)});
    }
  return success();
}

unsigned VqAttr::getSimtChunkColumns() const {
  return getKernel() == KernelKind::Simt ? 2048 : 0;
}

LogicalResult
VqAttr::emitSimtDecode(OpBuilder &builder, Location loc,
                       const SimtDecodeArgs &args,
                       SmallVectorImpl<DecodedSimtCode> &codes) const {
  if (getKernel() != KernelKind::Simt)
    return emitError(loc) << getSpec().referenceName()
                          << " stores its codes in the tensor-core layout";
  // Vector 4g + i0/2 of the lane covers columns 8*E*g + 8*w + i0 (+1),
  // g = 0..7, i0 = 0, 2, 4, 6 (quantizers.md section 6.6).
  for (unsigned code = 0; code < kSimtCodesPerLane; ++code) {
    Value index = detail::emitLoadWordStreamCode(builder, loc, args.codes,
                                                 args.wordOffset, code,
                                                 getBits(), args.codeWords);
    codes.push_back(
        {code / 4, 2 * (code % 4),
         detail::emitCodebookLoad(builder, loc, args, index, 2, 0),
         detail::emitCodebookLoad(builder, loc, args, index, 2, 1)});
  }
  return success();
}

unsigned VqAttr::getPackedPairEntries() const {
  return getKernel() != KernelKind::TensorCore
             ? 0
             : static_cast<unsigned>(getSpec().codebookBytes() / 4);
}

Value VqAttr::emitPackedPairEntry(OpBuilder &builder, Location loc,
                                  Value codebook, Value entry) const {
  return detail::emitCodebookPairEntry(builder, loc, codebook, entry);
}
