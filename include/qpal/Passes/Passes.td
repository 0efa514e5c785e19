//===- Passes.td - qpal passes -----------------------------*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PASSES_PASSES_TD
#define QPAL_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignQuantizerPass : Pass<"qpal-assign-quantizer", "::mlir::ModuleOp"> {
  let summary = "Gives every linear layer one quantizer (uniform quantization)";
  let description = [{
    Sets `quantizer` on every `qpal.linear` that has none (or on every one
    with `overwrite`), the uniform baseline that mixed-scheme allocation is
    compared against. The quantizer is named as in the Q-Palette reference
    (`tcq_6_none_0.9`, `tcomb_6_7_0.5_none_0.9`, `ldlq_1_4_none_1.0`, `f16`).
    A layer whose shape the quantizer cannot pack is an error that names the
    layer and the rule.

    ```mlir
    // qpal-opt -qpal-assign-quantizer="quantizer=tcq_6_none_0.9"
    %y = qpal.linear %x, @w : tensor<?x576xf32> -> tensor<?x576xf32>
    // becomes
    %y = qpal.linear %x, @w {quantizer = #qpal.tcq<kv = 6>}
        : tensor<?x576xf32> -> tensor<?x576xf32>
    ```
  }];
  let dependentDialects = ["::qpal::QPalDialect"];
  let options = [
    Option<"quantizer", "quantizer", "std::string", /*default=*/"\"\"",
           "The quantizer to assign, by reference name">,
    Option<"overwrite", "overwrite", "bool", /*default=*/"false",
           "Also replace quantizers that layers already carry">,
  ];
}

def LegalizeFusionPass : Pass<"qpal-legalize-fusion", "::mlir::ModuleOp"> {
  let summary = "Splits fusion groups that cannot become one kernel";
  let description = [{
    Checks every `qpal.fusion_group` against the rules a fused kernel needs
    beyond what the verifier enforces (shared input, shared quantizer):

    - members belong to one rotation domain: q/k/v share the attention input
      rotation, gate/up the MLP one; o and down are never fused;
    - members come from one block and no role appears twice;
    - the group's kind (`qk`, `kv`, `qv`, `qkv`, `ug`) is among
      `allowed-groups` (all five by default), the kernels the target has.

    An illegal group is replaced by its members, unfused, and a remark names
    the rule it broke.
  }];
  let dependentDialects = ["::qpal::QPalDialect"];
  let options = [
    ListOption<"allowedGroups", "allowed-groups", "std::string",
               "Group kinds the target can fuse (qk, kv, qv, qkv, ug)">,
  ];
}

def LowerToKernelsPass : Pass<"qpal-lower-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Generates one dequant-matmul kernel per quantized layer shape";
  let description = [{
    For every quantized `qpal.linear` and every `qpal.fusion_group` (one
    kernel over the members' concatenated rows), builds the kernel
    specialized on (quantizer, M, K, batch, target) unless an identical one
    exists, and records it on the op as `qpal.kernel`.

    - `target=cpu`: a `func.func` that decodes with the quantizer's
      `emitLaneDecode` and accumulates on the host; lower it with the LLVM
      conversions (`qpal kernel --target cpu` emits an object).
    - `target=nvptx`: a `gpu.func` in `gpu.module @qpal_kernels` targeting
      `chip` (`#nvvm.target`), whose grid is sized for the chip's SM count
      (`sm-count` overrides the known value); `gpu-module-to-binary` gives
      PTX.

    Kernels accumulate: `y += scale * (W_hat x)` on rotated activations (see
    include/qpal/Conversion/QPalToKernels.h for the argument contract).

    ```mlir
    // qpal-opt -qpal-lower-to-kernels="target=nvptx chip=sm_90 batch=1"
    %y = qpal.linear %x, @w {quantizer = #qpal.tcq<kv = 6>} ...
    // gets {qpal.kernel = @qpal_kernels::@qpal_tcq_6_none_0p9_m576_k576_n1_sm_90}
    ```
  }];
  let dependentDialects = [
    "::qpal::QPalDialect", "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect", "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect"];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Kernel target: cpu or nvptx">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "NVIDIA chip for target=nvptx: sm_80, sm_86, sm_89 or sm_90">,
    Option<"batch", "batch", "int64_t", /*default=*/"1",
           "Activation rows per call the kernels are specialized for">,
    Option<"smCount", "sm-count", "unsigned", /*default=*/"0",
           "SM count of the target GPU (0: the chip's usual part)">,
  ];
}

#endif // QPAL_PASSES_PASSES_TD
