//===- QPalTypes.cpp - qpal types -----------------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qpal;

#define GET_TYPEDEF_CLASSES
#include "qpal/Dialect/QPal/QPalTypes.cpp.inc"

void QPalDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "qpal/Dialect/QPal/QPalTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// PackedWeightType
//===----------------------------------------------------------------------===//

// !qpal.packed<M x K, quantizer>
Type PackedWeightType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t, 2> shape;
  Attribute attr;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/false) ||
      parser.parseComma() || parser.parseAttribute(attr) ||
      parser.parseGreater())
    return {};
  if (shape.size() != 2) {
    parser.emitError(loc) << "expects an M x K shape, got " << shape.size()
                          << (shape.size() == 1 ? " dimension" : " dimensions");
    return {};
  }
  auto quantizer = dyn_cast<QuantizerAttrInterface>(attr);
  if (!quantizer) {
    parser.emitError(loc) << "expects a quantizer attribute, got " << attr;
    return {};
  }
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    shape[0], shape[1], quantizer);
}

void PackedWeightType::print(AsmPrinter &printer) const {
  printer << "<" << getRows() << "x" << getCols() << ", " << getQuantizer()
          << ">";
}

LogicalResult
PackedWeightType::verify(function_ref<InFlightDiagnostic()> emitError,
                         int64_t rows, int64_t cols,
                         QuantizerAttrInterface quantizer) {
  if (!quantizer)
    return emitError() << "expects a quantizer";
  if (isa<F16Attr>(quantizer))
    return emitError() << "expects a coded quantizer, got " << quantizer
                       << " (f16 layers keep their dense weight)";
  return quantizer.verifyShape(rows, cols, emitError);
}

int64_t PackedWeightType::getCodeBytes() const {
  return static_cast<int64_t>(getSpec().codeBytes(getRows(), getCols()));
}

int64_t PackedWeightType::getCodebookValues() const {
  // The fp16 codebook, each value widened to f32.
  return static_cast<int64_t>(getSpec().codebookBytes() / 2);
}
