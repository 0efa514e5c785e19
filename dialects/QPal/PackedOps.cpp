//===- PackedOps.cpp - Packed weights and the ops that use them -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The verifiers of qpal.packed_weight, qpal.get_weight,
// qpal.quantized_linear and qpal.dequant_matmul: every buffer and activation
// must have the size the packed type's quantizer gives it (lib/Quant).
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace qpal;

/// Checks that `attr` is a rank-1 `elementType` tensor of `size` elements.
static LogicalResult checkBuffer(Operation *op, StringRef name,
                                 ElementsAttr attr, Type elementType,
                                 int64_t size) {
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  if (!type || type.getRank() != 1 || type.getElementType() != elementType ||
      type.getNumElements() != size)
    return op->emitOpError() << "expects " << name << " of type "
                             << RankedTensorType::get({size}, elementType)
                             << ", got " << attr.getType();
  // A resource whose blob is missing (IR printed with its resources elided,
  // or a blob never attached) holds no data to lower.
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return op->emitOpError()
             << "expects " << name << " with data, but the resource '"
             << resource.getRawHandle().getKey()
             << "' has no blob (was the IR printed with its resources "
                "elided?)";
    uint64_t bytes =
        static_cast<uint64_t>(size) * (elementType.getIntOrFloatBitWidth() / 8);
    if (blob->getData().size() != bytes)
      return op->emitOpError()
             << "expects " << name << " of " << bytes
             << " bytes, but the resource '" << resource.getRawHandle().getKey()
             << "' holds " << blob->getData().size();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// PackedWeightOp
//===----------------------------------------------------------------------===//

LogicalResult PackedWeightOp::verify() {
  PackedWeightType type = getPackedType();
  Builder builder(getContext());
  if (failed(checkBuffer(*this, "codes", getCodes(), builder.getI8Type(),
                         type.getCodeBytes())) ||
      failed(checkBuffer(*this, "scales", getScales(), builder.getF32Type(),
                         type.getRows())) ||
      failed(checkBuffer(*this, "signs", getSigns(), builder.getF32Type(),
                         type.getCols())))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// GetWeightOp
//===----------------------------------------------------------------------===//

LogicalResult
GetWeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<PackedWeightOp>(
      *this, getWeightAttr().getAttr());
  if (!weight)
    return emitOpError() << "'" << getWeightAttr()
                         << "' does not reference a 'qpal.packed_weight'";
  if (weight.getPackedType() != getType()) {
    InFlightDiagnostic diag =
        emitOpError() << "expects the type of '" << getWeightAttr() << "', "
                      << weight.getPackedType() << ", got " << getType();
    diag.attachNote(weight.getLoc()) << "weight declared here";
    return diag;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizedLinearOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizedLinearOp::verify() {
  auto weight = cast<PackedWeightType>(getWeight().getType());
  auto input = cast<RankedTensorType>(getInput().getType());
  if (input.isDynamicDim(1) || input.getDimSize(1) != weight.getCols())
    return emitOpError() << "expects an input of " << weight.getCols()
                         << " features (the weight's K), got " << input;
  if (getResults().empty())
    return emitOpError() << "expects at least one result";
  if (std::optional<ArrayAttr> roles = getRoles();
      roles && roles->size() != getNumResults())
    return emitOpError() << "expects one role per result (" << getNumResults()
                         << "), got " << roles->size();
  int64_t rows = 0;
  for (Value result : getResults()) {
    auto type = cast<RankedTensorType>(result.getType());
    if (type.isDynamicDim(1))
      return emitOpError() << "expects results with a static feature "
                              "dimension, got "
                           << type;
    if (type.getDimSize(0) != input.getDimSize(0))
      return emitOpError() << "expects every result to have the input's "
                              "token dimension, got "
                           << type << " for " << input;
    rows += type.getDimSize(1);
  }
  if (rows != weight.getRows())
    return emitOpError() << "expects the results' features to add up to the "
                            "weight's M = "
                         << weight.getRows() << ", got " << rows;
  return success();
}

//===----------------------------------------------------------------------===//
// DequantMatmulOp
//===----------------------------------------------------------------------===//

PackedWeightType DequantMatmulOp::getPackedType() {
  auto scales = cast<MemRefType>(getScales().getType());
  auto signs = cast<MemRefType>(getSigns().getType());
  return PackedWeightType::get(getContext(), scales.getDimSize(0),
                               signs.getDimSize(0), getQuantizer());
}

LogicalResult DequantMatmulOp::verify() {
  auto scales = cast<MemRefType>(getScales().getType());
  auto signs = cast<MemRefType>(getSigns().getType());
  if (!scales.hasStaticShape() || !signs.hasStaticShape())
    return emitOpError() << "expects static scales and signs (M and K), got "
                         << scales << " and " << signs;
  int64_t rows = scales.getDimSize(0), cols = signs.getDimSize(0);
  if (failed(PackedWeightType::verifyInvariants([&] { return emitOpError(); },
                                                rows, cols, getQuantizer())))
    return failure();
  PackedWeightType packed = getPackedType();
  auto checkDim = [&](Value value, StringRef name, unsigned dim,
                      int64_t expected) -> LogicalResult {
    auto type = cast<MemRefType>(value.getType());
    if (type.isDynamicDim(dim) || type.getDimSize(dim) != expected)
      return emitOpError() << "expects " << name << " with " << expected
                           << (dim == 0 ? " elements" : " columns") << ", got "
                           << type;
    return success();
  };
  if (failed(checkDim(getCodes(), "codes", 0, packed.getCodeBytes())) ||
      failed(checkDim(getCodebook(), "a codebook", 0,
                      packed.getCodebookValues())) ||
      failed(checkDim(getInput(), "an input", 1, cols)) ||
      failed(checkDim(getOutput(), "an output", 1, rows)))
    return failure();
  auto input = cast<MemRefType>(getInput().getType());
  auto output = cast<MemRefType>(getOutput().getType());
  if (input.getDimSize(0) != output.getDimSize(0))
    return emitOpError() << "expects the input and the output to have one "
                            "token dimension, got "
                         << input << " and " << output;
  return success();
}
