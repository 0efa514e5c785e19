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

def AttachSensitivityPass : Pass<"qpal-attach-sensitivity", "::mlir::ModuleOp"> {
  let summary = "Sets each linear layer's loss sensitivity from a JSON file";
  let description = [{
    Reads a sensitivity file in the Q-Palette reference format
    (`{"coefficients": {"0_self_attn.q_proj": 5.7e-04, ...}}`, the layout of
    `llama31_8b_sensitivity.json`) and sets `sensitivity` on every
    `qpal.linear` from the entry of its layer key (`block` and `role`). Keys
    the module does not use are ignored. A linear without `block` or `role`,
    one whose key the file lacks, and a value that is not a finite
    non-negative number are errors that name the layer.

    ```mlir
    // qpal-opt -qpal-attach-sensitivity="file=sensitivity.json"
    %q = qpal.linear %x, @blk3_q {block = 3 : i64, role = #qpal.role<q>}
        : tensor<?x4096xf32> -> tensor<?x4096xf32>
    // becomes (with "3_self_attn.q_proj": 0.014 in the file)
    %q = qpal.linear %x, @blk3_q {block = 3 : i64, role = #qpal.role<q>,
                                  sensitivity = 1.400000e-02 : f64}
        : tensor<?x4096xf32> -> tensor<?x4096xf32>
    ```
  }];
  let dependentDialects = ["::qpal::QPalDialect"];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"\"",
           "Sensitivity JSON in the reference format">,
  ];
}

def AllocateBitsPass : Pass<"qpal-allocate-bits", "::mlir::ModuleOp"> {
  let summary = "Chooses every linear layer's quantizer and fusion by MSQ";
  let description = [{
    Mixed-scheme quantization (kernels-and-msq.md Part B): picks for every
    `qpal.linear` a quantizer of the palette (and for SQ/VQ a tensor-core or
    SIMT kernel) and for every block which of q/k/v and gate/up run fused,
    minimizing `sum_l sensitivity_l * err(quantizer_l)` within a memory budget
    (`budget-bits`, average bits per weight), a latency budget
    (`target-tokens-per-second`, under `latency-table` or `roofline`), or
    both. The problem is solved exactly by qpal::alloc::solveMsq.

    Every linear must carry `block`, `role` and `sensitivity` (see
    `qpal-attach-sensitivity`). The layer shapes come from the weights:
    blocks `0..max(block)` must each have all seven roles (q, k, v, o, gate,
    up, down), with the shapes of one Llama configuration. The palette is
    the `palette` option, else the module's `qpal.palette`, else
    `reference-memory` (memory budget only) or `reference-latency-simt`.

    The pass sets `quantizer` on every linear and wraps each fused group in a
    `qpal.fusion_group` (members in row order: `[q; k; v]`, `[up; gate]`).
    Existing fusion groups are dissolved first: the plan decides fusion. A
    fused group whose members read different values is left unfused with a
    remark. A remark on the module reports the objective, the proven bound,
    the average bits and the predicted throughput.

    ```mlir
    // qpal-opt -qpal-allocate-bits="target-tokens-per-second=200 roofline=h100"
    %q = qpal.linear %x, @q {block = 0 : i64, role = #qpal.role<q>,
                             sensitivity = 1.2e-02 : f64} ...
    %k = qpal.linear %x, @k {block = 0 : i64, role = #qpal.role<k>, ...} ...
    %v = qpal.linear %x, @v {block = 0 : i64, role = #qpal.role<v>, ...} ...
    // becomes
    %qkv:3 = qpal.fusion_group -> (...) {
      %0 = qpal.linear %x, @q {..., quantizer = #qpal.tcq<kv = 8>, ...} ...
      %1 = qpal.linear %x, @k {..., quantizer = #qpal.tcq<kv = 8>, ...} ...
      %2 = qpal.linear %x, @v {..., quantizer = #qpal.tcq<kv = 8>, ...} ...
      qpal.yield %0, %1, %2 : ...
    }
    ```
  }];
  let dependentDialects = ["::qpal::QPalDialect"];
  let options = [
    Option<"budgetBits", "budget-bits", "double", /*default=*/"0.0",
           "Memory budget: average bits per weight of the linear layers "
           "(0: none)">,
    Option<"targetTokensPerSecond", "target-tokens-per-second", "double",
           /*default=*/"0.0",
           "Latency budget: predicted decode tokens per second at batch 1 "
           "(0: none)">,
    Option<"latencyTable", "latency-table", "std::string", /*default=*/"\"\"",
           "Latency table JSON (the reference's schema)">,
    Option<"roofline", "roofline", "std::string", /*default=*/"\"\"",
           "Analytic latency model instead of a table: rtx4090 or h100">,
    Option<"fusion", "fusion", "bool", /*default=*/"true",
           "Let blocks fuse q/k/v (qk, kv, qv, qkv) and gate/up (ug); only "
           "with a latency model, since fusion changes nothing else">,
    Option<"palette", "palette", "std::string", /*default=*/"\"\"",
           "Palette name (reference-memory, reference-latency, "
           "reference-latency-simt, full) or comma-separated quantizer names; "
           "default: the module's qpal.palette">,
    Option<"memoryModel", "memory-model", "std::string",
           /*default=*/"\"full\"",
           "What the memory budget counts: full (codes, codebooks, scales, "
           "signs) or reference (codes and codebooks)">,
    Option<"distortion", "distortion", "std::string", /*default=*/"\"\"",
           "Distortion JSON (normalized_mse per quantizer name); default: "
           "the reference's measurements">,
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
      conversions (`qpal kernel --target cpu` emits an object). The decode
      runs on `vector<32x...>` values, all 32 lanes of a supertile at once
      (`vector.gather` lookups, or AVX-512 permutes of a codebook held in
      registers), or lane by lane (`cpu-decode`; auto picks per
      quantizer).
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
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Kernel target: cpu or nvptx">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "NVIDIA chip for target=nvptx: sm_80, sm_86, sm_89 or sm_90">,
    Option<"batch", "batch", "int64_t", /*default=*/"1",
           "Activation rows per call the kernels are specialized for">,
    Option<"smCount", "sm-count", "unsigned", /*default=*/"0",
           "SM count of the target GPU (0: the chip's usual part)">,
    Option<"cpuDecode", "cpu-decode", "std::string", /*default=*/"\"auto\"",
           "target=cpu: vector (the 32 lanes of a supertile at once), lanes "
           "(lane by lane) or auto (the faster for the quantizer)">,
    Option<"cpuIsa", "cpu-isa", "std::string", /*default=*/"\"host\"",
           "target=cpu: instruction-set extensions the kernels name "
           "themselves: host, avx512 or avx2 (permute lookups of small "
           "codebooks) or generic">,
  ];
}

#endif // QPAL_PASSES_PASSES_TD
