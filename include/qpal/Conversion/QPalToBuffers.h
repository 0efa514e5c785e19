//===- QPalToBuffers.h - Packed weights to buffers --------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The conversion from packed weights (`!qpal.packed`) and the layers that
// read them (`qpal.quantized_linear`) to buffers and the buffer-level
// `qpal.dequant_matmul`.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOBUFFERS_H
#define QPAL_CONVERSION_QPALTOBUFFERS_H

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

#include <string>

namespace qpal {

/// Maps `!qpal.packed<M x K, Q>` to its four buffers, in this order: codes
/// `memref<Bxi8>`, scales `memref<Mxf32>`, signs `memref<Kxf32>` and the
/// codebook `memref<Cxf32>` (lib/Quant gives B and C); other types are left
/// as they are.
class PackedWeightTypeConverter : public mlir::TypeConverter {
public:
  PackedWeightTypeConverter();
};

/// Adds the patterns that lower `qpal.packed_weight` (to constant
/// `memref.global`s), `qpal.get_weight` (to `memref.get_global`s, 1:N) and
/// `qpal.quantized_linear` (to `qpal.dequant_matmul` on buffers).
void populateQPalToBuffersPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);

/// The symbol of the global that holds `quantizer`'s codebook, e.g.
/// `qpal.codebook.tcq_6_none_0.9` (`ldlq_1_4_none_1.0.simt` for `:simt`).
std::string getCodebookGlobalName(QuantizerAttrInterface quantizer);

/// Returns the constant global `name` of `module`, creating it (private,
/// 64-byte aligned, initialized with `value`) at the start of the module
/// body when it does not exist yet.
mlir::memref::GlobalOp getOrCreateConstantGlobal(mlir::OpBuilder &builder,
                                                 mlir::ModuleOp module,
                                                 llvm::StringRef name,
                                                 mlir::ElementsAttr value);

} // namespace qpal

#endif // QPAL_CONVERSION_QPALTOBUFFERS_H
