//===- SqAttr.cpp - #qpal.sq: syntax, verifier, interface ------ ===//
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

//===----------------------------------------------------------------------===//
// Code generation
//===----------------------------------------------------------------------===//

unsigned SqAttr::getLaneSegmentBytes(unsigned part) const {
  // 4 tiles x 8 scalar codes x b bits.
  return getKernel() == KernelKind::TensorCore ? 4 * getBits() : 0;
}

uint64_t SqAttr::getPartByteOffset(int64_t rows, int64_t cols,
                                   unsigned part) const {
  return 0;
}

LogicalResult
SqAttr::emitLaneDecode(OpBuilder &builder, Location loc,
                       const LaneDecodeArgs &args,
                       SmallVectorImpl<DecodedPair> &pairs) const {
  if (getKernel() != KernelKind::TensorCore)
    return emitError(loc) << getSpec().referenceName()
                          << " stores its codes in the SIMT layout, not the "
                             "tensor-core one";
  // Tile q's chunk holds the lane's 8 codes in fragment order, LSB-first:
  // codes 2j and 2j + 1 are the pair of register j.
  unsigned bits = getBits();
  Value segment = args.segmentOffset(builder, loc, 0);
  for (unsigned tile = 0; tile < 4; ++tile)
    for (unsigned reg = 0; reg < 4; ++reg) {
      if (args.packedPairs.table) {
        // The pair's two codes, read as one 2b-bit index of the pair table.
        Value index = detail::emitLoadBitsLE(builder, loc, args.codes, segment,
                                             tile * 8 * bits + 2 * reg * bits,
                                             2 * bits, args.codeWords);
        pairs.push_back({tile, reg, Value(), Value(),
                         detail::emitPackedPairLoad(builder, loc,
                                                    args.packedPairs, index)});
        continue;
      }
      Value values[2];
      for (unsigned half = 0; half < 2; ++half) {
        unsigned code = 2 * reg + half;
        Value index = detail::emitLoadBitsLE(builder, loc, args.codes, segment,
                                             tile * 8 * bits + code * bits,
                                             bits, args.codeWords);
        values[half] =
            detail::emitCodebookLoad(builder, loc, args, index, 1, 0);
      }
      pairs.push_back({tile, reg, values[0], values[1]});
    }
  return success();
}

unsigned SqAttr::getSimtChunkColumns() const {
  return getKernel() == KernelKind::Simt ? 1024 : 0;
}

LogicalResult
SqAttr::emitSimtDecode(OpBuilder &builder, Location loc,
                       const SimtDecodeArgs &args,
                       SmallVectorImpl<DecodedSimtCode> &codes) const {
  if (getKernel() != KernelKind::Simt)
    return emitError(loc) << getSpec().referenceName()
                          << " stores its codes in the tensor-core layout";
  // Code 8j + i of the lane sits at column 8*E*j + 8*w + i, j = 0..3,
  // i = 0..7 (quantizers.md section 6.6).
  for (unsigned code = 0; code < kSimtCodesPerLane; ++code) {
    Value index = detail::emitLoadWordStreamCode(builder, loc, args.codes,
                                                 args.wordOffset, code,
                                                 getBits(), args.codeWords);
    codes.push_back({code / 8, code % 8,
                     detail::emitCodebookLoad(builder, loc, args, index, 1, 0),
                     Value()});
  }
  return success();
}

unsigned SqAttr::getPackedPairEntries() const {
  // The pair table has 2^(2b) entries: up to 16 KiB (b = 6).
  if (getKernel() != KernelKind::TensorCore || getBits() > 6)
    return 0;
  return 1u << (2 * getBits());
}

Value SqAttr::emitPackedPairEntry(OpBuilder &builder, Location loc,
                                  Value codebook, Value entry) const {
  // Entry e pairs code e mod 2^b (first) with code e / 2^b (second).
  unsigned bits = getBits();
  Value first = arith::AndIOp::create(
      builder, loc, entry,
      arith::ConstantIndexOp::create(builder, loc, (1 << bits) - 1));
  Value second = arith::ShRUIOp::create(
      builder, loc, entry, arith::ConstantIndexOp::create(builder, loc, bits));
  return detail::emitPackHalves(
      builder, loc, memref::LoadOp::create(builder, loc, codebook, first),
      memref::LoadOp::create(builder, loc, codebook, second));
}
