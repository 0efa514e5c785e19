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
    layer and the rule, unless `fallback` names a quantizer for such layers
    (a fusion group falls back as a whole, so its members keep sharing one).

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
    Option<"fallback", "fallback", "std::string", /*default=*/"\"\"",
           "The quantizer of layers that `quantizer` cannot pack (e.g. f16), "
           "with a remark; default: such a layer is an error">,
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
    both. The problem is solved exactly by qpal::alloc::solveMsq. With
    `layer-errors` (measured by `qpal layer-errors` with calibration
    Hessians) `err` is per layer, `err_l(quantizer_l)`.

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
           "reference-latency-simt, full; each also with -hess) or "
           "comma-separated quantizer names; "
           "default: the module's qpal.palette">,
    Option<"memoryModel", "memory-model", "std::string",
           /*default=*/"\"full\"",
           "What the memory budget counts: full (codes, codebooks, scales, "
           "signs) or reference (codes and codebooks)">,
    Option<"distortion", "distortion", "std::string", /*default=*/"\"\"",
           "Distortion JSON (normalized_mse per quantizer name); default: "
           "the reference's measurements">,
    Option<"layerErrors", "layer-errors", "std::string", /*default=*/"\"\"",
           "Per-layer errors measured with calibration Hessians (`qpal "
           "layer-errors` JSON): err_l(q) per layer instead of err(q)">,
  ];
}

def QuantizeWeightsPass : Pass<"qpal-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Quantizes and packs the weights of quantized linear layers";
  let description = [{
    Reads the weight of every `qpal.linear` that carries a coded quantizer
    (f16 and unquantized layers are left alone) from the model file, and
    quantizes it as lib/Quant defines it: the input rotation (random signs,
    then the randomized Hadamard transform), per-row scales, the codec and
    its packed layout. The weight becomes a `qpal.packed_weight` whose
    `!qpal.packed` type carries its shape and quantizer; the layer becomes a
    `qpal.quantized_linear` of a `qpal.get_weight`. A fusion group is one
    packed weight (the members' rows stacked in order, one shared rotation)
    and one `qpal.quantized_linear` with a result per member. Dense weights
    nothing uses any more are erased.

    The model file is `model`, else the module's `qpal.model_file`. The sign
    vector of a layer with `block` and `role` is seeded as `qpal eval`'s fake
    quantization seeds it (`seed`, the block, the rotation domain: q/k/v, o,
    gate/up, down), so the compiled layers compute what it measures. The
    packed bytes are `dense_resource` blobs: they print in the module's
    resource section (`--mlir-elide-resource-strings-if-larger` hides them).

    A quantizer with `rounding = hess` rounds with LDLQ against the second
    moment of the layer's input (the block's `qkv`, `o`, `up` or `down`
    statistics in the `hessians` file); such a layer needs its `block` and
    `role`.

    ```mlir
    // qpal-opt -qpal-quantize-weights
    %y = qpal.linear %x, @blk0_o {block = 0 : i64, role = #qpal.role<o>,
                                  quantizer = #qpal.tcq<kv = 6>} ...
    // becomes
    qpal.packed_weight @blk0.o : !qpal.packed<576x576, #qpal.tcq<kv = 6>>
        codes(dense_resource<blk0.o.codes> : tensor<124416xi8>) ...
    %w = qpal.get_weight @blk0.o : !qpal.packed<576x576, #qpal.tcq<kv = 6>>
    %y = qpal.quantized_linear %x, %w {block = 0 : i64, roles = [#qpal.role<o>]}
        : tensor<?x576xf32>, !qpal.packed<576x576, #qpal.tcq<kv = 6>>
        -> tensor<?x576xf32>
    ```
  }];
  let dependentDialects = ["::qpal::QPalDialect"];
  let options = [
    Option<"model", "model", "std::string", /*default=*/"\"\"",
           "The model file (GGUF or safetensors); default: the module's "
           "qpal.model_file">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of the input rotations' sign vectors">,
    Option<"threads", "threads", "unsigned", /*default=*/"0",
           "Worker threads of the encoders (0: every hardware thread)">,
    Option<"hessians", "hessians", "std::string", /*default=*/"\"\"",
           "Calibration statistics (`qpal calibrate`) that layers with "
           "`rounding = hess` round against">,
    Option<"cache", "cache", "std::string", /*default=*/"\"\"",
           "A directory of quantized layers (qpal/Quant/LayerCache.h): a "
           "layer found there is not encoded again, a layer encoded is "
           "stored; empty: no cache">,
  ];
  let statistics = [
    Statistic<"numEncoded", "layers-encoded",
              "Packed weights encoded by lib/Quant">,
    Statistic<"numFromCache", "layers-from-cache",
              "Packed weights read from the layer cache">,
  ];
}

def MaterializeWeightsPass : Pass<"qpal-materialize-weights", "::mlir::ModuleOp"> {
  let summary = "Loads the values of the dense weights still read into the IR";
  let description = [{
    Every `qpal.weight` that an op still reads (the embedding table, the norm
    gains, the LM head, linear layers that stay dense) gets its values from
    the model file as a `value` resource blob, in the type its readers need:
    f16 when every reader is a `qpal.linear` whose quantizer is `#qpal.f16`
    (rounded exactly as `qpal eval`'s fake quantization rounds), else f32.
    Weights that already carry a value, or that nothing reads, are left
    alone. The model file is `model`, else the module's `qpal.model_file`.

    A table that only `qpal.embedding` reads keeps the model file's storage:
    f16 and bf16 as elements, ggml's q4_0, q4_1, q5_0, q5_1 and q8_0 as their
    bytes (the weight's `storage`), which the lookup decodes; other formats
    (the K-quants) become f32. SmolLM2's q8_0 table is 30 MB instead of 113
    MB in f32. `dense-embedding` keeps every table in f32.

    ```mlir
    qpal.weight @model.norm : tensor<576xf32> {source = "model.norm.weight"}
    // becomes
    qpal.weight @model.norm : tensor<576xf32> {source = "model.norm.weight",
        value = dense_resource<model.norm> : tensor<576xf32>}
    ```
  }];
  let dependentDialects = ["::qpal::QPalDialect"];
  let options = [
    Option<"model", "model", "std::string", /*default=*/"\"\"",
           "The model file (GGUF or safetensors); default: the module's "
           "qpal.model_file">,
    Option<"denseEmbedding", "dense-embedding", "bool", /*default=*/"false",
           "Store embedding tables in f32, not in the model file's format">,
  ];
}

def AssignLmHeadPass : Pass<"qpal-assign-lm-head", "::mlir::ModuleOp"> {
  let summary = "Quantizes the LM head: qpal.lm_head becomes a quantized qpal.linear";
  let description = [{
    The LM head (with tied embeddings, the largest tensor of a small model,
    read whole for every token) becomes a `qpal.linear` of role `lm_head`
    (layer key `lm_head`) with `quantizer`, which `qpal-quantize-weights`
    packs like any linear; the embedding lookup keeps reading the dense
    table. `qpal eval --plan` with an `lm_head` entry fake-quantizes it the
    same way. The quantizer must pack the vocab x hidden weight.

    ```mlir
    %l = qpal.lm_head %h, @model.embed_tokens
        : tensor<?x576xf32> -> tensor<?x49152xf32>
    // qpal-assign-lm-head="quantizer=ldlq_1_4_none_1.0" gives
    %l = qpal.linear %h, @model.embed_tokens {quantizer = #qpal.sq<bits = 4>,
        role = #qpal.role<lm_head>} : tensor<?x576xf32> -> tensor<?x49152xf32>
    ```
  }];
  let dependentDialects = ["::qpal::QPalDialect"];
  let options = [
    Option<"quantizer", "quantizer", "std::string", /*default=*/"\"\"",
           "The LM head's quantizer (a reference name)">,
  ];
}

def OutlineStepsPass : Pass<"qpal-outline-steps", "::mlir::ModuleOp"> {
  let summary = "Turns the model's forward function into step entry points over a KV cache";
  let description = [{
    Replaces the imported `@forward(tokens, positions)` (causal attention
    over the tokens it is given) by one entry point per batch size `b`,
    `@qpal_step_b<b>`, which runs `b` tokens that continue a sequence whose
    keys and values are in a cache:

    ```mlir
    func.func @qpal_step_b8(%tokens: memref<8xi32>, %position: index,
                            %cache: memref<?x?x192xf32> {qpal.kv_cache},
                            %logits: memref<8x49152xf32>)
        attributes {llvm.emit_c_interface}
    ```

    The body is the forward function's, with the token dimension fixed to
    `b`, the positions `position + i`, each `qpal.attention` numbered by
    `qpal.layer` (its block: keys in cache plane 2l, values in 2l + 1) and
    the logits materialized into `%logits`. `qpal-lower-model-ops` then
    lowers the model-level ops; the cache layout and the entry-point ABI are
    those of the runtime's `qpalpkg.h`.
  }];
  let dependentDialects = [
    "::qpal::QPalDialect", "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect"];
  let options = [
    ListOption<"batches", "batches", "int64_t",
               "The batch sizes to emit an entry point for (default: 1 and 8)">,
  ];
}

def OutlineLayersPass : Pass<"qpal-outline-layers", "::mlir::ModuleOp"> {
  let summary = "Outlines each residual block of the step entry points into a function of its own";
  let description = [{
    Cuts the body of every step entry point (`qpal-outline-steps`) where
    exactly one value crosses: the residual stream between the attention
    and MLP halves of the transformer blocks. Each part between two cuts
    becomes a private function, called in its place:

    ```mlir
    func.func private @qpal_step_b1_part1(%in: memref<1x576xf32>,
        %position: index, %cache: memref<?x?x192xf32> {qpal.kv_cache},
        %out: memref<1x576xf32>)
        attributes {passthrough = ["noinline"], qpal.step_part}
    ```

    The entry point keeps what comes before the first cut (the embedding)
    and after the last (the final norm and the LM head); the residual
    stream between parts travels through three buffers (the first part's
    input, then two in turn). Values that depend only on the position (the
    RoPE positions, constants) are recomputed in each part that uses them.

    A model's step is otherwise one function of a few hundred loop nests,
    which LLVM's loop passes (`IndVarSimplify` above all) optimize in time
    quadratic in its length: for SmolLM2 (30 blocks) 97 of the 123 s of a
    compilation. Parts of a few loop nests each keep that linear, and the
    parts are `noinline` so the inliner does not undo it. The arithmetic is
    unchanged.
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect"];
}

def LowerModelOpsPass : Pass<"qpal-lower-model-ops", "::mlir::ModuleOp"> {
  let summary = "Lowers the model-level ops of the step entry points to linalg, tensor and scf";
  let description = [{
    Runs `populateQPalModelToLinalgPatterns` under a `ConversionTarget` in
    which the model-level ops (`qpal.embedding`, `qpal.rms_norm`,
    `qpal.rope`, `qpal.attention`, `qpal.swiglu`, `qpal.add`,
    `qpal.lm_head`) and the dense `qpal.linear`s are illegal. Element-wise
    ops and products become `linalg.generic`s on tensors; weights become
    constant `memref.global`s of their `value`s; attention writes the keys
    and values into the entry point's `qpal.kv_cache` and attends over it
    with `scf` loops on buffers, a head's rows as `vector<head_dim x f32>`
    values. The result bufferizes with
    `one-shot-bufferize`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"];
  let options = [
    Option<"target", "target", "::qpal::KernelTarget",
           /*default=*/"::qpal::KernelTarget::Cpu",
           "Where the loops run: on nvptx every loop nest over a buffer is "
           "an scf.parallel with no allocation inside",
           [{::llvm::cl::values(
             clEnumValN(::qpal::KernelTarget::Cpu, "cpu", "the host CPU"),
             clEnumValN(::qpal::KernelTarget::Nvptx, "nvptx",
                        "NVIDIA GPUs"))}]>,
  ];
}

def MapToGpuPass : Pass<"qpal-map-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Puts the step functions' loop nests on an NVIDIA GPU";
  let description = [{
    Runs after the model is on buffers, its linears are `gpu.launch_func`s
    (`qpal-lower-to-kernels{target=nvptx}`) and its other linalg ops are
    `scf.parallel` nests (`convert-linalg-to-parallel-loops`). In every host
    function:

    1. each outermost `scf.parallel` is tiled along its widest dimension
       (the widest static one, or a dynamic one when no static one has
       `threads` iterations) by `threads` (or by its trip count, if
       smaller) and mapped: the tiles
       to blocks, the iterations of a tile to threads
       (`gpu-map-parallel-loops`' attributes), then converted to a
       `gpu.launch` (`convert-parallel-loops-to-gpu`'s patterns). Loops
       inside it stay sequential in each thread;
    2. `memref.alloc` / `memref.dealloc` become `gpu.alloc` /
       `gpu.dealloc`: the host never touches a buffer's elements;
    3. every `gpu.launch` is outlined into a kernel of one
       `gpu.module @qpal_model_kernels` for `chip` (one PTX module to
       load), constants cloned into it, and launched with
       `gpu.launch_func`. A `memref.copy` becomes a loop nest first.

    The pass fails, naming the op, if anything on the host still reads or
    writes a buffer's elements, or if a constant `memref.global` is read
    (its bytes would stay in host memory).

    ```mlir
    scf.parallel (%i) = (%c0) to (%c576) step (%c1) { ... }
    // becomes
    gpu.launch blocks(%bx, ...) in (%gx = %c5, ...)
               threads(%tx, ...) in (%sx = %c128, ...) {
      %i = %bx * 128 + %tx
      scf.if %i < 576 { ... }
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::scf::SCFDialect"];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block of a mapped loop nest">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "The NVIDIA chip of gpu.module @qpal_model_kernels">,
  ];
}

def OutlineParallelLoopsPass
    : Pass<"qpal-outline-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "Moves each outermost scf.parallel into a function the host's threads split";
  let description = [{
    Replaces every outermost one-dimensional `scf.parallel` without results
    by a call of a new private function that runs its body for a range of
    iterations. The function takes the values the body uses from above
    (constants are cloned instead) and the range `[lo, hi)` of iteration
    numbers; the call passes `[0, trip count)` and carries the unit
    attribute `qpal.parallel_loop`. A host shared object sends such calls
    through its thread pool (`routeParallelKernelCalls`), which splits the
    range over the threads; elsewhere the call runs all iterations in turn.

    ```mlir
    scf.parallel (%i) = (%c0) to (%c36) step (%c1) { ... %out ... }
    // becomes
    func.call @step_loop0(%out, %c0, %c36) {qpal.parallel_loop}
        : (memref<1x576xf32>, index, index) -> ()
    func.func private @step_loop0(%out: memref<1x576xf32>, %lo: index,
                                  %hi: index) {
      scf.for %n = %lo to %hi step %c1 { %i = %n ... }
    }
    ```

    Run it on buffers, after deallocation (the outlined body frees what it
    allocates).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::scf::SCFDialect"];
}

def ExternalizeWeightsPass : Pass<"qpal-externalize-weights", "::mlir::ModuleOp"> {
  let summary = "Moves the constant globals the entry points read into one weight arena";
  let description = [{
    Lays out every constant `memref.global` with an initial value that an
    entry point (a function with `llvm.emit_c_interface`) reads, at 64-byte
    aligned offsets of one byte arena, in order of first use; gives each
    entry point a leading `%arena: memref<?xi8>` argument and replaces the
    `memref.get_global`s by `memref.view`s of it. The arena's bytes are what
    a package's "weights" section holds (`arena-file` writes them). Globals
    other functions read, and those without a value, stay.

    ```mlir
    %w = memref.get_global @blk0.o.codes : memref<124416xi8>
    // becomes
    %w = memref.view %arena[%c4096][] : memref<?xi8> to memref<124416xi8>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
  let options = [
    Option<"arenaFile", "arena-file", "std::string", /*default=*/"\"\"",
           "Where to write the arena's bytes (default: nowhere)">,
  ];
}

def ConvertToBuffersPass : Pass<"qpal-convert-to-buffers", "::mlir::ModuleOp"> {
  let summary = "Lowers packed weights to buffers and quantized linears to qpal.dequant_matmul";
  let description = [{
    Runs `populateQPalToBuffersPatterns` under a `ConversionTarget` in which
    `qpal.packed_weight`, `qpal.get_weight` and `qpal.quantized_linear` are
    illegal. Its `TypeConverter` maps `!qpal.packed<M x K, Q>` to four
    memrefs (1:N): codes `memref<Bxi8>`, scales `memref<Mxf32>`, signs
    `memref<Kxf32>` and the quantizer's codebook `memref<Cxf32>`.

    - a packed weight becomes three constant `memref.global`s
      (`@W.codes`, `@W.scales`, `@W.signs`), and each quantizer used gets one
      codebook global (`@qpal.codebook.<name>`, from lib/Quant);
    - `qpal.get_weight` becomes their `memref.get_global`s;
    - `qpal.quantized_linear` becomes a zero-filled output buffer, one
      `qpal.dequant_matmul` into it, and a tensor slice per member.

    ```mlir
    %y = qpal.quantized_linear %x, %w : tensor<?x576xf32>,
        !qpal.packed<576x576, #qpal.tcq<kv = 6>> -> tensor<?x576xf32>
    // becomes
    %xb = bufferization.to_buffer %x : tensor<?x576xf32> to memref<?x576xf32>
    %out = memref.alloc(%n) : memref<?x576xf32>
    linalg.fill ins(%zero : f32) outs(%out : memref<?x576xf32>)
    qpal.dequant_matmul %xb, %codes, %scales, %signs, %codebook, %out
        {quantizer = #qpal.tcq<kv = 6>} : ...
    %y = bufferization.to_tensor %out restrict : ...
    ```
  }];
  let dependentDialects = [
    "::qpal::QPalDialect", "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect"];
}

def LowerToKernelsPass : Pass<"qpal-lower-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Replaces each qpal.dequant_matmul by calls of specialized kernels";
  let description = [{
    Runs `populateQPalToKernelsPatterns` under a `ConversionTarget` in which
    `qpal.dequant_matmul` is illegal. Each one becomes the activation
    rotation kernel and the dequant-matmul kernel specialized on (quantizer,
    M, K, batch, target), built once per module and called (or launched) in
    its place. A dynamic token dimension is specialized to `batch`.

    - `target=cpu`: `func.func` kernels that decode with the quantizer's
      lane decode (`vector<32x...>` values, all 32 lanes of a supertile at
      once, or lane by lane: `cpu-decode`) and `func.call`s of them over the
      whole range of row groups; `qpal-cpu-kernels-to-llvm` lowers them.
    - `target=nvptx`: `gpu.func` kernels in `gpu.module @qpal_kernels`
      targeting `chip` (`#nvvm.target`), grids sized for the chip's SM
      count (`sm-count` overrides it), and `gpu.launch_func`s;
      `qpal-gpu-kernels-to-ptx` serializes them.

    Kernels accumulate: `y += scale * (W_hat x_rot)` (see
    include/qpal/Conversion/QPalToKernels.h for the argument contract). An
    unsupported quantizer, shape or rotation width is an error on the op.

    ```mlir
    // qpal-opt -qpal-lower-to-kernels="target=cpu batch=1"
    qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y
        {quantizer = #qpal.tcq<kv = 6>} : ...
    // becomes
    func.call @qpal_rotate_k576_n1_cpu(%x1, %signs, %hk, %t, %xr, %rows) : ...
    func.call @qpal_tcq_6_none_0p9_m576_k576_n1_cpu(%xr, %codes, %codebook,
        %scales, %y1, %groups) : ...
    ```
  }];
  let dependentDialects = [
    "::qpal::QPalDialect", "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect", "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"];
  let options = [
    Option<"target", "target", "::qpal::KernelTarget",
           /*default=*/"::qpal::KernelTarget::Cpu", "Kernel target",
           [{::llvm::cl::values(
               clEnumValN(::qpal::KernelTarget::Cpu, "cpu", "the host CPU"),
               clEnumValN(::qpal::KernelTarget::Nvptx, "nvptx",
                          "NVIDIA GPUs through LLVM's NVPTX backend"))}]>,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "NVIDIA chip for target=nvptx: sm_80, sm_86, sm_89 or sm_90">,
    Option<"batch", "batch", "int64_t", /*default=*/"1",
           "Activation rows per call that dynamic token dimensions are "
           "specialized to">,
    Option<"smCount", "sm-count", "unsigned", /*default=*/"0",
           "SM count of the target GPU (0: the chip's usual part)">,
    Option<"cpuDecode", "cpu-decode", "::qpal::CpuDecode",
           /*default=*/"::qpal::CpuDecode::Auto",
           "target=cpu: how the tensor-core layouts decode",
           [{::llvm::cl::values(
               clEnumValN(::qpal::CpuDecode::Auto, "auto",
                          "the faster of the two for the quantizer"),
               clEnumValN(::qpal::CpuDecode::Vector, "vector",
                          "the 32 lanes of a supertile at once"),
               clEnumValN(::qpal::CpuDecode::Lanes, "lanes", "lane by lane"))}]>,
    Option<"cpuParallel", "cpu-parallel", "bool", /*default=*/"false",
           "target=cpu: mark the kernel calls (qpal.parallel) for the host "
           "thread pool of a compiled package">,
    Option<"cpuIsa", "cpu-isa", "std::string", /*default=*/"\"host\"",
           "target=cpu: instruction-set extensions the kernels name "
           "themselves: host, avx512 or avx2 (permute lookups of small "
           "codebooks) or generic">,
    Option<"cpuPackedPairs", "cpu-packed-pairs", "bool", /*default=*/"true",
           "target=cpu, vector decode: look weight pairs up in the packed "
           "f16x2 pair table (false: gather each value from the f32 "
           "codebook)">,
    Option<"cpuDealtSegments", "cpu-dealt-segments", "unsigned",
           /*default=*/"3",
           "target=cpu, vector decode: code segments per lane dealt from a "
           "supertile's load (1 to 3; the decode gathers other words)">,
    Option<"gpuRotationThreads", "gpu-rotation-threads", "int64_t",
           /*default=*/"256",
           "target=nvptx: threads of one activation row's rotation block">,
    Option<"gpuMma", "gpu-mma", "bool", /*default=*/"true",
           "target=nvptx, tensor-core layouts, batch <= 32: accumulate with "
           "mma.sync (false: CUDA-core FMAs)">,
    Option<"gpuPackedPairs", "gpu-packed-pairs", "bool", /*default=*/"true",
           "target=nvptx, with mma: the packed f16x2 pair table in shared "
           "memory (false: the f32 codebook)">,
    Option<"gpuUnroll", "gpu-unroll", "unsigned", /*default=*/"0",
           "target=nvptx: supertiles a warp decodes per iteration, 0 to 16 "
           "(0: the compiler's choice)">,
    Option<"gpuBlocksPerSm", "gpu-blocks-per-sm", "unsigned", /*default=*/"0",
           "target=nvptx: blocks per SM the grid aims at, 0 to 32 (0: the "
           "compiler's choice)">,
    Option<"gpuPackedReplicas", "gpu-packed-replicas", "unsigned",
           /*default=*/"0",
           "target=nvptx: copies of the shared pair table, 0 to 32 (0: the "
           "most that fit)">,
    Option<"gpuVectorSegments", "gpu-vector-segments", "bool",
           /*default=*/"true",
           "target=nvptx: read code segments with vector loads where their "
           "alignment allows (false: word loads)">,
  ];
}

#endif // QPAL_PASSES_PASSES_TD
