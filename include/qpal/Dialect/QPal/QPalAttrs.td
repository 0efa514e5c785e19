//===- QPalAttrs.td - qpal attributes ----------------------*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_DIALECT_QPAL_QPALATTRS_TD
#define QPAL_DIALECT_QPAL_QPALATTRS_TD

include "qpal/Dialect/QPal/QPalDialect.td"
include "qpal/Dialect/QPal/QPalInterfaces.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class QPal_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QPal_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

/// A quantizer attribute: custom `key = value` syntax, verified parameters,
/// and the quantizer interface implemented from `getSpec`.
class QPal_QuantizerAttr<string name, string attrMnemonic,
                         list<string> overrides = []>
    : QPal_Attr<name, attrMnemonic,
                [DeclareAttrInterfaceMethods<QPal_QuantizerAttrInterface,
                                             overrides>]> {
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  // The inverse of `getSpec` (QPalAttrs.cpp's `getQuantizerAttr` calls it
  // for each family of Families.def).
  let extraClassDeclaration = [{
    static }] # name # [{Attr fromSpec(::mlir::MLIRContext *context,
                                       const ::qpal::QuantizerSpec &spec);
  }];
}

//===----------------------------------------------------------------------===//
// Quantizers
//===----------------------------------------------------------------------===//

def QPal_TcqAttr : QPal_QuantizerAttr<"Tcq", "tcq"> {
  let summary = "Bitshift-trellis coded quantizer (TCQ)";
  let description = [{
    QTIP's bitshift trellis as Q-Palette uses it: a 16-bit state, 2 weights
    per step, `kv` new bits per step (2..10, so `kv / 2` bits per weight), and
    a two-dimensional codebook of `2^tlut_bits` entries (9, 10 or 11) indexed
    by the `s(s+1) mod 2^16` hash of the state. Weights are coded in 16 x 16
    tiles in `mma.m16n8k16` fragment order with a tail-biting Viterbi search.
    `scale` multiplies the normalized weights before rounding (0.9 in the
    reference). `tlut_bits` defaults to the reference's choice for `kv`
    (9 up to KV = 8, 10 for 9, 11 for 10) and is printed only when it
    differs; `scale` is printed only when it is not 0.9.

    `rounding = hess` chooses the states with BlockLDLQ against the layer's
    calibration Hessian (blocks of 16 columns, one tile width, each tile
    Viterbi-encoded on its fed-back targets); the codes decode as before.

    `code = "1mad"` or `code = "3inst"` replaces the table with a code
    computed from the state (ComputedTrellis.h: two multiply-adds and byte
    sums, or two multiply-adds, a mask, an xor and fp16 sums): the same
    trellis, layout and rate, and no codebook for the kernels to read.

    Reference name: `tcq_{kv}_{none|hess}_{scale}[:1mad|:3inst]`.

    ```mlir
    #qpal.tcq<kv = 6>                       // tcq_6_none_0.9, 3 bits/weight
    #qpal.tcq<kv = 6, code = "3inst">       // tcq_6_none_0.9:3inst
    #qpal.tcq<kv = 9>                       // tcq_9_none_0.9 (tlut_bits = 10)
    #qpal.tcq<kv = 9, tlut_bits = 9>        // the 512-entry table at 4.5 bits
    ```
  }];
  let parameters = (ins "unsigned":$kv, "unsigned":$tlutBits,
                        APFloatParameter<"input scale">:$scale,
                        "bool":$hessian, "::qpal::TrellisCode":$code);
}

def QPal_TcqSplitAttr : QPal_QuantizerAttr<"TcqSplit", "tcq_split"> {
  let summary = "Fractional TCQ: two trellis rates split over the input columns";
  let description = [{
    Columns `[0, K/2)` are coded with `kv1` bits per step and `[K/2, K)` with
    `kv2`, both with one shared codebook of `2^tlut_bits` entries (by default
    the reference's choice for `max(kv1, kv2)`). The rate is
    `(kv1 + kv2) / 4` bits per weight, which gives the palette its 0.25-bit
    steps. Each half is packed as an independent M x K/2 TCQ matrix.

    `rounding = hess` as for `#qpal.tcq`.

    Reference name: `tcomb_{kv1}_{kv2}_0.5_{none|hess}_{scale}`.

    ```mlir
    #qpal.tcq_split<kv1 = 6, kv2 = 7>       // tcomb_6_7_0.5_none_0.9, 3.25 bits
    ```
  }];
  let parameters = (ins "unsigned":$kv1, "unsigned":$kv2, "unsigned":$tlutBits,
                        APFloatParameter<"input scale">:$scale,
                        "bool":$hessian, "::qpal::TrellisCode":$code);
}

def QPal_VqAttr : QPal_QuantizerAttr<"Vq", "vq"> {
  let summary = "2-D vector quantizer with a fixed Gaussian codebook";
  let description = [{
    Each pair of horizontally adjacent weights is replaced by the nearest of
    `2^bits` codewords (bits 2..12, so `bits / 2` bits per weight) of a
    k-means codebook of N(0, I). `kernel` selects the tensor-core kernel
    (default) or the CUDA-core (`simt`) one, which stores the codes in its own
    layout.

    `rounding = hess` rounds with LDLQ against the layer's calibration
    Hessian (`qpal calibrate`) instead of each pair on its own (`none`, the
    default); the codes, layout and kernels are the same.

    Reference name: `ldlq_2_{bits}_{none|hess}_{scale}` (`:simt` appended
    for the CUDA-core kernel).

    ```mlir
    #qpal.vq<bits = 9>                      // ldlq_2_9_none_1.0, 4.5 bits
    #qpal.vq<bits = 6, kernel = simt>
    #qpal.vq<bits = 6, rounding = hess>     // ldlq_2_6_hess_1.0
    ```
  }];
  let parameters = (ins "unsigned":$bits, APFloatParameter<"input scale">:$scale,
                        "::qpal::KernelKind":$kernel, "bool":$hessian);
}

def QPal_SqAttr : QPal_QuantizerAttr<"Sq", "sq"> {
  let summary = "Non-uniform scalar quantizer with a fixed Gaussian codebook";
  let description = [{
    Each weight is replaced by the nearest of `2^bits` levels (bits 2..8) of
    a Lloyd-Max codebook of N(0, 1). `kernel` selects the tensor-core kernel
    (default) or the CUDA-core (`simt`) one.

    `rounding = hess` rounds with LDLQ against the layer's calibration
    Hessian, as for `#qpal.vq`.

    Reference name: `ldlq_1_{bits}_{none|hess}_{scale}`.

    ```mlir
    #qpal.sq<bits = 4>                      // ldlq_1_4_none_1.0
    #qpal.sq<bits = 4, rounding = hess>     // ldlq_1_4_hess_1.0
    ```
  }];
  let parameters = (ins "unsigned":$bits, APFloatParameter<"input scale">:$scale,
                        "::qpal::KernelKind":$kernel, "bool":$hessian);
}

def QPal_F16Attr : QPal_QuantizerAttr<"F16", "f16"> {
  let summary = "Not quantized: the weight is kept in fp16";
  let description = [{
    The neutral member of the palette, for layers a budget can afford to
    keep: 16 bits per weight, a dense fp16 GEMV/GEMM kernel.

    ```mlir
    #qpal.f16
    ```
  }];
  let hasCustomAssemblyFormat = 0;
  let genVerifyDecl = 0;
}

//===----------------------------------------------------------------------===//
// Palette
//===----------------------------------------------------------------------===//

def QPal_PaletteAttr : QPal_Attr<"Palette", "palette"> {
  let summary = "The set of quantizers mixed-scheme quantization chooses from";
  let description = [{
    A non-empty list of distinct quantizer attributes. Attached to a module as
    `qpal.palette`, it is the palette `qpal-allocate-bits` chooses from.

    ```mlir
    #qpal.palette<[#qpal.tcq<kv = 6>, #qpal.tcq_split<kv1 = 6, kv2 = 7>,
                   #qpal.sq<bits = 4>]>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"::qpal::QuantizerAttrInterface",
                      "quantizers">:$quantizers);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Layer roles
//===----------------------------------------------------------------------===//

def QPal_LinearRole : I32EnumAttr<"LinearRole", "the role of a linear layer in a Llama block", [
    I32EnumAttrCase<"q", 0>, I32EnumAttrCase<"k", 1>, I32EnumAttrCase<"v", 2>,
    I32EnumAttrCase<"o", 3>, I32EnumAttrCase<"gate", 4>, I32EnumAttrCase<"up", 5>,
    I32EnumAttrCase<"down", 6>, I32EnumAttrCase<"lm_head", 7>
  ]> {
  let cppNamespace = "::qpal";
  let genSpecializedAttr = 0;
}

def QPal_LinearRoleAttr : EnumAttr<QPal_Dialect, QPal_LinearRole, "role"> {
  let summary = "The role of a linear layer in a Llama decoder block";
  let description = [{
    `q`, `k`, `v`, `o` (attention) or `gate`, `up`, `down` (MLP), or
    `lm_head` (the LM head as a quantized linear, outside the blocks: its
    layer key is `lm_head`, and it is not an MSQ variable). Roles tell
    the passes which layers share an input rotation (q/k/v; gate/up) and so
    may be fused, and name the layer in sensitivity and latency tables.
  }];
  let assemblyFormat = "`<` $value `>`";
}

#endif // QPAL_DIALECT_QPAL_QPALATTRS_TD
