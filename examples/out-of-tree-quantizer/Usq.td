//===- Usq.td - The usq dialect: a uniform scalar quantizer -*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A quantizer family defined outside qpal's tree: its attribute lives in a
// dialect of its own and implements qpal's quantizer interface, which the
// installed qpal/Dialect/QPal/QPalInterfaces.td declares.
//
//===----------------------------------------------------------------------===//

#ifndef USQ_TD
#define USQ_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/DialectBase.td"
include "mlir/Pass/PassBase.td"
include "qpal/Dialect/QPal/QPalInterfaces.td"

def Usq_Dialect : Dialect {
  let name = "usq";
  let cppNamespace = "::usq";
  let summary = "A scalar quantizer with uniformly spaced levels, as a plug-in";
  let useDefaultAttributePrinterParser = 1;
}

def Usq_UniformAttr : AttrDef<Usq_Dialect, "Uniform",
    [DeclareAttrInterfaceMethods<QPal_QuantizerAttrInterface>]> {
  let mnemonic = "uniform";
  let summary = "The nearest of 2^bits evenly spaced levels";
  let description = [{
    `2^bits` levels (bits 2..8), evenly spaced with the step that minimizes
    the MSE on N(0, 1) (Max 1960) and symmetric about 0, in the SQ
    tensor-core layout: SQ's codec and kernels with another codebook.
    `scale` multiplies the normalized weights before rounding (1.0 by
    default); `rounding = hess` rounds with LDLQ against the layer's
    calibration Hessian (lib/Quant's, for every codebook family).

    Reference name: `usq_{bits}_{none|hess}_{scale}`.

    ```mlir
    #usq.uniform<bits = 4>                     // usq_4_none_1.0
    #usq.uniform<bits = 3, scale = 1.1>        // usq_3_none_1.1
    #usq.uniform<bits = 4, rounding = hess>    // usq_4_hess_1.0
    ```
  }];
  let parameters = (ins "unsigned":$bits,
                        APFloatParameter<"input scale">:$scale,
                        "bool":$hessian);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The inverse of `getSpec`.
    static UniformAttr fromSpec(::mlir::MLIRContext *context,
                                const ::qpal::QuantizerSpec &spec);
  }];
}

def UsqReplaceSq : Pass<"usq-replace-sq", "::mlir::ModuleOp"> {
  let summary = "Replace every tensor-core SQ quantizer by the uniform one "
                "of the same bits";
  let description = [{
    Rewrites `#qpal.sq<bits = b, ...>` to `#usq.uniform<bits = b, ...>`
    (same scale and rounding) wherever it appears: on linears, in packed
    weight types, in palettes. SQ's SIMT layout has no uniform counterpart
    and is left alone. An example of a pass plug-in that works on qpal's IR.
  }];
  let dependentDialects = ["::usq::UsqDialect"];
}

#endif // USQ_TD
