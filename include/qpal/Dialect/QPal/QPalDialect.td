//===- QPalDialect.td - The qpal dialect -------------------*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_DIALECT_QPAL_QPALDIALECT_TD
#define QPAL_DIALECT_QPAL_QPALDIALECT_TD

include "mlir/IR/OpBase.td"

def QPal_Dialect : Dialect {
  let name = "qpal";
  let cppNamespace = "::qpal";
  let summary = "Weight-only quantized LLM inference with Q-Palette quantizers";
  let description = [{
    The `qpal` dialect describes a Llama-family model at the grain of its
    linear layers, and the *choices* a weight-only quantizing compiler makes
    for them: which quantizer of the palette each layer uses (trellis-coded
    `#qpal.tcq`, its fractional column split `#qpal.tcq_split`, 2-D vector
    `#qpal.vq`, scalar `#qpal.sq`, or `#qpal.f16`), how sensitive the model's
    loss is to each layer, and which layers share one kernel
    (`qpal.fusion_group`).

    Weights are never constants in the IR: `qpal.weight` declares a symbol
    with a shape and the name of the tensor in the model file, and the layers
    reference it.

    ```mlir
    module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>,
                                                     #qpal.sq<bits = 4>]>} {
      qpal.weight @blk0_q : tensor<576x576xf32> {source = "blk.0.attn_q.weight"}
      func.func @q(%x: tensor<?x576xf32>) -> tensor<?x576xf32> {
        %y = qpal.linear %x, @blk0_q {quantizer = #qpal.tcq<kv = 6>}
            : tensor<?x576xf32> -> tensor<?x576xf32>
        return %y : tensor<?x576xf32>
      }
    }
    ```

    Numeric truth (what a code word decodes to, how bits are packed) lives in
    qpal's `lib/Quant`; the dialect's quantizer attributes convert to and from
    its `QuantizerSpec`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The module attribute that holds the palette MSQ chooses from.
    static constexpr ::llvm::StringLiteral kPaletteAttrName = "qpal.palette";
    /// The module attribute naming the model file the weights come from.
    static constexpr ::llvm::StringLiteral kModelFileAttrName =
        "qpal.model_file";
    /// The layer number of a `qpal.attention` in a step entry point: its
    /// keys and values are cache planes 2l and 2l + 1.
    static constexpr ::llvm::StringLiteral kLayerAttrName = "qpal.layer";
    /// Marks a CPU kernel call whose row groups (the value, a positive
    /// integer) may run on several threads of a package's thread pool.
    static constexpr ::llvm::StringLiteral kParallelAttrName = "qpal.parallel";
    /// Marks a call of a loop body outlined by qpal-outline-parallel-loops
    /// (a unit attribute): its last two operands are a range [lo, hi) of
    /// iterations that the package's thread pool may split.
    static constexpr ::llvm::StringLiteral kParallelLoopAttrName =
        "qpal.parallel_loop";
    /// The unit argument attribute that marks a step entry point's KV cache.
    static constexpr ::llvm::StringLiteral kKvCacheAttrName = "qpal.kv_cache";
    /// The unit function attribute of a part of a step entry point that
    /// qpal-outline-layers outlined: it takes the entry point's arena too
    /// when qpal-externalize-weights gives the entry point one.
    static constexpr ::llvm::StringLiteral kStepPartAttrName = "qpal.step_part";

  private:
    void registerAttributes();
    void registerTypes();
  public:
  }];
}

#endif // QPAL_DIALECT_QPAL_QPALDIALECT_TD
