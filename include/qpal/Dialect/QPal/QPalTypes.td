//===- QPalTypes.td - qpal types ---------------------------*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_DIALECT_QPAL_QPALTYPES_TD
#define QPAL_DIALECT_QPAL_QPALTYPES_TD

include "qpal/Dialect/QPal/QPalAttrs.td"
include "mlir/IR/AttrTypeBase.td"

def QPal_PackedWeightType : TypeDef<QPal_Dialect, "PackedWeight"> {
  let mnemonic = "packed";
  let summary = "A quantized M x K weight in its quantizer's packed layout";
  let description = [{
    The value of a linear layer's weight once `qpal-quantize-weights` has
    rotated, scaled, encoded and packed it: M x K weights (`rows x cols`,
    `out_features x in_features`) coded by `quantizer`. The storage it stands
    for is four buffers, laid out by lib/Quant:

    | buffer   | element | size                       |
    |----------|---------|----------------------------|
    | codes    | i8      | `quantizer.codeBytes(M, K)` |
    | scales   | f32     | M (fp16-exact row scales)  |
    | signs    | f32     | K (+-1, the input rotation's SU) |
    | codebook | f32     | the quantizer's fp16 codebook, widened |

    The codebook belongs to the quantizer, not to the weight: weights that
    share a quantizer share one. `qpal-convert-to-buffers` maps the type to
    these four memrefs with a 1:N `TypeConverter`.

    A fusion group's members are packed as one weight whose rows are theirs,
    stacked in the group's member order (`[q; k; v]`; `[gate; up]` from
    `qpal import --fuse`, `[up; gate]` from `qpal-allocate-bits`), so its M
    is the sum of theirs. `#qpal.f16` is no packed format: f16 layers stay `qpal.linear`
    on their dense weight.

    ```mlir
    !qpal.packed<1536x576, #qpal.tcq<kv = 6>>
    !qpal.packed<960x576, #qpal.sq<bits = 4, kernel = simt>>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols,
                        "::qpal::QuantizerAttrInterface":$quantizer);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The lib/Quant description of the quantizer.
    ::qpal::QuantizerSpec getSpec() const { return getQuantizer().getSpec(); }
    /// Bytes of the packed codes.
    int64_t getCodeBytes() const;
    /// f32 values of the widened codebook (2 per entry for TCQ and VQ).
    int64_t getCodebookValues() const;
  }];
}

#endif // QPAL_DIALECT_QPAL_QPALTYPES_TD
