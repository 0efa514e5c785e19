//===- QPalOps.td - qpal operations ------------------------*- tablegen -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_DIALECT_QPAL_QPALOPS_TD
#define QPAL_DIALECT_QPAL_QPALOPS_TD

include "qpal/Dialect/QPal/QPalAttrs.td"
include "qpal/Dialect/QPal/QPalTypes.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class QPal_Op<string mnemonic, list<Trait> traits = []>
    : Op<QPal_Dialect, mnemonic, traits>;

/// Activations: a ranked float tensor whose last dimension is the feature
/// dimension (leading dimensions are tokens and may be dynamic).
def QPal_Activation : RankedTensorOf<[AnyFloat]>;
def QPal_TokenIds : RankedTensorOf<[AnySignlessInteger]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def QPal_WeightOp : QPal_Op<"weight", [Symbol]> {
  let summary = "Declares a weight tensor that lives in the model file";
  let description = [{
    A named, statically shaped weight. `source` names the tensor in the model
    file (GGUF or safetensors) it is read from; the IR never holds its values.
    Linear weights are M x K (`out_features x in_features`), norm gains are
    vectors, embedding tables are vocab x hidden.

    `value`, when present, holds the weight's values (set by
    `qpal-materialize-weights`, as a resource blob): the weight's shape with
    the element type it is stored in, f32, f16 or bf16 (f16 for a linear
    layer whose quantizer is `#qpal.f16`; an embedding table keeps the model
    file's f16 or bf16).

    `storage`, when present, names the ggml block format `value` holds the
    weight in, exactly the model file's bytes: `q4_0`, `q4_1`, `q5_0`,
    `q5_1` or `q8_0` (32 elements per block, one f16 scale and, for the `_1`
    formats, one f16 minimum each). The value is then `rows x bytes-per-row`
    of i8, and only `qpal.embedding` reads the weight: it decodes the rows it
    gathers, as the model reader dequantizes them. An embedding table is
    the largest tensor of a small model, and a step reads one row of it per
    token.

    ```mlir
    qpal.weight @blk0_q : tensor<576x576xf32> {source = "blk.0.attn_q.weight"}
    qpal.weight @norm : tensor<576xf32>
        {value = dense_resource<norm> : tensor<576xf32>}
    qpal.weight @embed : tensor<49152x576xf32> {storage = "q8_0",
        value = dense_resource<embed> : tensor<49152x612xi8>}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<AnyStaticShapeTensor>:$type,
                       OptionalAttr<StrAttr>:$source,
                       OptionalAttr<ElementsAttr>:$value,
                       OptionalAttr<StrAttr>:$storage);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The weight's tensor type.
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    /// The ggml block format of `value` (`storage`), or std::nullopt when
    /// the value holds elements.
    std::optional<::qpal::model::TensorType> getStorageFormat();
  }];
}

//===----------------------------------------------------------------------===//
// Linear layers and fusion
//===----------------------------------------------------------------------===//

def QPal_LinearOp : QPal_Op<"linear", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "A linear layer y = x W^T whose weight a quantizer may code";
  let description = [{
    Multiplies the activations (`... x K`) by the transpose of the M x K
    weight `@weight` (a `qpal.weight`), giving `... x M`.

    - `quantizer`: the palette quantizer chosen for the weight (absent before
      allocation); the weight's shape must fit its packed layout.
    - `sensitivity`: the layer's loss coefficient a_l (loss increase per unit
      of normalized MSE), a finite non-negative number.
    - `block` and `role`: where the layer sits in the model, e.g. block 3,
      role `q` is the reference's layer key `3_self_attn.q_proj`.

    ```mlir
    %q = qpal.linear %x, @blk0_q {block = 0 : i64, role = #qpal.role<q>,
                                  quantizer = #qpal.tcq<kv = 6>,
                                  sensitivity = 1.2e-02 : f64}
        : tensor<?x576xf32> -> tensor<?x576xf32>
    ```
  }];
  let arguments = (ins QPal_Activation:$input, FlatSymbolRefAttr:$weight,
                       OptionalAttr<QPal_QuantizerAttrInterface>:$quantizer,
                       OptionalAttr<F64Attr>:$sensitivity,
                       OptionalAttr<I64Attr>:$block,
                       OptionalAttr<QPal_LinearRoleAttr>:$role);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Returns the reference's layer key (`3_self_attn.q_proj`), or an empty
    /// string when `block` or `role` is missing.
    std::string getLayerKey();

    /// Returns the (M, K) shape of the weight, or emits an error on this op
    /// when `@weight` does not name a rank-2 `qpal.weight`.
    ::mlir::FailureOr<std::pair<int64_t, int64_t>>
    getWeightShape(::mlir::SymbolTableCollection &symbolTable);
  }];
}

def QPal_FusionGroupOp : QPal_Op<"fusion_group", [
    SingleBlock, RecursiveMemoryEffects]> {
  let summary = "Linear layers that share one input and run as one kernel";
  let description = [{
    Groups linear layers that read the same activations (q/k/v, or gate/up of
    a Llama block) so that their packed weights are concatenated by rows and
    computed by one kernel behind one shared input rotation. The body holds
    only the member `qpal.linear` ops (at least two) and a `qpal.yield` of
    their results, in member order; all members read the same value (defined
    outside the group) and carry the same quantizer (or none yet).

    ```mlir
    %q, %k, %v = qpal.fusion_group -> (tensor<?x576xf32>, tensor<?x192xf32>,
                                       tensor<?x192xf32>) {
      %0 = qpal.linear %x, @q : tensor<?x576xf32> -> tensor<?x576xf32>
      %1 = qpal.linear %x, @k : tensor<?x576xf32> -> tensor<?x192xf32>
      %2 = qpal.linear %x, @v : tensor<?x576xf32> -> tensor<?x192xf32>
      qpal.yield %0, %1, %2 : tensor<?x576xf32>, tensor<?x192xf32>,
                              tensor<?x192xf32>
    }
    ```
  }];
  let results = (outs Variadic<QPal_Activation>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `->` `(` type($results) `)` attr-dict-with-keyword $body
  }];
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The member linear layers, in order.
    ::llvm::SmallVector<LinearOp, 4> getMembers();
    /// The activations every member reads.
    ::mlir::Value getSharedInput();
    /// The quantizer every member carries, or null.
    QuantizerAttrInterface getQuantizer();
    /// Replaces the group by its members, placed before it.
    void inlineMembers(::mlir::RewriterBase &rewriter);
  }];
}

def QPal_YieldOp : QPal_Op<"yield", [
    Pure, Terminator, HasParent<"FusionGroupOp">]> {
  let summary = "Returns the member results of a fusion group";
  let arguments = (ins Variadic<QPal_Activation>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

//===----------------------------------------------------------------------===//
// Packed (quantized) weights
//===----------------------------------------------------------------------===//

def QPal_PackedWeightOp : QPal_Op<"packed_weight", [Symbol]> {
  let summary = "Declares a quantized weight and holds its packed buffers";
  let description = [{
    A weight after quantization (`qpal-quantize-weights`): its type states
    the shape and the quantizer, and three elements attributes hold the
    buffers of the type's storage (see `!qpal.packed`): `codes` (i8, the
    packed codes), `scales` (f32, one per row) and `signs` (f32 +-1, one per
    column). The quantization pass stores them as `dense_resource` blobs, so
    the bytes stay out of the IR's body; `sources` names the model file's
    tensors they were quantized from, in row order, and `seed` the sign
    vector's seed.

    ```mlir
    qpal.packed_weight @blk0_o : !qpal.packed<576x576, #qpal.tcq<kv = 6>>
        codes(dense_resource<blk0_o_codes> : tensor<124416xi8>)
        scales(dense_resource<blk0_o_scales> : tensor<576xf32>)
        signs(dense_resource<blk0_o_signs> : tensor<576xf32>)
        {seed = 2702307325150756021 : ui64, sources = ["blk.0.attn_output.weight"]}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<QPal_PackedWeightType>:$type,
                       ElementsAttr:$codes, ElementsAttr:$scales,
                       ElementsAttr:$signs,
                       OptionalAttr<StrArrayAttr>:$sources,
                       OptionalAttr<UI64Attr>:$seed);
  let assemblyFormat = [{
    $sym_name `:` $type `codes` `(` $codes `)` `scales` `(` $scales `)`
    `signs` `(` $signs `)` attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The weight's packed type.
    PackedWeightType getPackedType() {
      return ::llvm::cast<PackedWeightType>(getType());
    }
  }];
}

def QPal_GetWeightOp : QPal_Op<"get_weight", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "The value of a packed weight";
  let description = [{
    Gives the packed weight declared by `qpal.packed_weight @weight` as an SSA
    value, as `memref.get_global` does for a global.

    ```mlir
    %w = qpal.get_weight @blk0_o : !qpal.packed<576x576, #qpal.tcq<kv = 6>>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$weight);
  let results = (outs QPal_PackedWeightType:$result);
  let assemblyFormat = "$weight attr-dict `:` qualified(type($result))";
}

def QPal_QuantizedLinearOp : QPal_Op<"quantized_linear", [Pure]> {
  let summary = "Linear layers computed from one packed weight";
  let description = [{
    `y = x W_hat^T` for the packed M x K weight `%weight`: the activations
    (tokens x K, f32) are rotated as the weight was (`signs`, then the
    randomized Hadamard transform), multiplied by the decoded weight and
    scaled per row. A fused group (q/k/v, gate/up) is one op with one result
    per member: the results split the M rows in order, so their feature
    dimensions add up to M. `block` and `roles` record which layers of the
    model the results are.

    ```mlir
    %q, %k, %v = qpal.quantized_linear %x, %w
        {block = 0 : i64, roles = [#qpal.role<q>, #qpal.role<k>, #qpal.role<v>]}
        : tensor<?x576xf32>, !qpal.packed<960x576, #qpal.tcq<kv = 6>>
        -> tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input,
                       QPal_PackedWeightType:$weight,
                       OptionalAttr<I64Attr>:$block,
                       OptionalAttr<TypedArrayAttrBase<QPal_LinearRoleAttr,
                                                       "roles">>:$roles);
  let results = (outs Variadic<2DTensorOf<[F32]>>:$results);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` qualified(type($weight))
    `->` type($results)
  }];
  let hasVerifier = 1;
}

def QPal_DequantMatmulOp : QPal_Op<"dequant_matmul"> {
  let summary = "The buffer-level product of rotated activations and a packed weight";
  let description = [{
    The storage of a `!qpal.packed<M x K, quantizer>` weight as buffers, and
    the product every kernel target implements:

    `y[n][m] += scales[m] * sum_k W_hat[m][k] * RHT(signs * x[n])[k]`

    with `W_hat` the weight decoded from `codes` through `codebook` (lib/Quant
    defines both). The op *accumulates* into `y` (N x M). N, the number of
    tokens, may be dynamic; `qpal-lower-to-kernels` specializes it.

    ```mlir
    qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y
        {quantizer = #qpal.tcq<kv = 6>}
        : memref<?x576xf32>, memref<124416xi8>, memref<576xf32>,
          memref<576xf32>, memref<1024xf32>, memref<?x576xf32>
    ```
  }];
  let arguments = (ins Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$input,
                       Arg<MemRefRankOf<[I8], [1]>, "", [MemRead]>:$codes,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$scales,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$signs,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$codebook,
                       Arg<MemRefRankOf<[F32], [2]>, "",
                           [MemRead, MemWrite]>:$output,
                       QPal_QuantizerAttrInterface:$quantizer);
  let assemblyFormat = [{
    $input `,` $codes `,` $scales `,` $signs `,` $codebook `,` $output
    attr-dict `:` type($input) `,` type($codes) `,` type($scales) `,`
    type($signs) `,` type($codebook) `,` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The packed type whose storage the buffers are.
    PackedWeightType getPackedType();
  }];
}

//===----------------------------------------------------------------------===//
// Model-level operations (coarse grain)
//===----------------------------------------------------------------------===//

def QPal_EmbeddingOp : QPal_Op<"embedding", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Looks up token ids in an embedding table";
  let description = [{
    Gathers rows of the vocab x hidden table `@table` for a vector of token
    ids.

    ```mlir
    %h = qpal.embedding %ids, @token_embd : tensor<?xi32> -> tensor<?x576xf32>
    ```
  }];
  let arguments = (ins QPal_TokenIds:$ids, FlatSymbolRefAttr:$table);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = "$ids `,` $table attr-dict `:` type($ids) `->` type($result)";
  let hasVerifier = 1;
}

def QPal_RmsNormOp : QPal_Op<"rms_norm", [
    Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "RMSNorm with a learned gain";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * gain` over the last dimension; the
    gain is the vector weight `@gain`.

    ```mlir
    %n = qpal.rms_norm %h, @blk0_attn_norm {epsilon = 1.0e-05 : f64}
        : tensor<?x576xf32>
    ```
  }];
  let arguments = (ins QPal_Activation:$input, FlatSymbolRefAttr:$gain,
                       F64Attr:$epsilon);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = "$input `,` $gain attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def QPal_RopeOp : QPal_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding of attention heads";
  let description = [{
    Rotates each `head_dim`-wide head of the input by angles
    `position * theta^(-2i / head_dim)`. `interleaved` pairs adjacent
    elements (GGUF's layout); otherwise the two halves of a head are paired
    (Hugging Face's layout). `inverse_frequencies`, when present, replaces
    `theta^(-2i / head_dim)` (head_dim / 2 values): the model's rescaled
    frequencies (Llama 3's `rope_scaling`, GGUF's `rope_freqs`).

    ```mlir
    %r = qpal.rope %q, %pos {head_dim = 64 : i64, theta = 1.0e+05 : f64}
        : tensor<?x576xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins QPal_Activation:$input, QPal_TokenIds:$positions,
                       I64Attr:$head_dim, F64Attr:$theta,
                       UnitAttr:$interleaved,
                       OptionalAttr<DenseF32ArrayAttr>:$inverse_frequencies);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = [{
    $input `,` $positions attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def QPal_AttentionOp : QPal_Op<"attention", [
    Pure, AllTypesMatch<["query", "result"]>]> {
  let summary = "Causal grouped-query attention";
  let description = [{
    Scaled dot-product attention with a causal mask over the token dimension.
    `num_heads` query heads share `num_kv_heads` key/value heads (GQA), so
    `num_heads` must be a multiple of `num_kv_heads`; the feature dimensions
    are `num_heads * head_dim` (query, result) and `num_kv_heads * head_dim`
    (key, value).

    ```mlir
    %o = qpal.attention %q, %k, %v {head_dim = 64 : i64, num_heads = 9 : i64,
                                    num_kv_heads = 3 : i64}
        : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
    ```
  }];
  let arguments = (ins QPal_Activation:$query, QPal_Activation:$key,
                       QPal_Activation:$value, I64Attr:$num_heads,
                       I64Attr:$num_kv_heads, I64Attr:$head_dim);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` type($query) `,` type($key) `,`
    type($value)
  }];
  let hasVerifier = 1;
}

def QPal_SwiGluOp : QPal_Op<"swiglu", [Pure, SameOperandsAndResultType]> {
  let summary = "The SwiGLU gate: silu(gate) * up";
  let description = [{
    ```mlir
    %a = qpal.swiglu %gate, %up : tensor<?x1536xf32>
    ```
  }];
  let arguments = (ins QPal_Activation:$gate, QPal_Activation:$up);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def QPal_AddOp : QPal_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "Element-wise sum (the residual connection)";
  let description = [{
    ```mlir
    %h1 = qpal.add %h, %o : tensor<?x576xf32>
    ```
  }];
  let arguments = (ins QPal_Activation:$lhs, QPal_Activation:$rhs);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def QPal_LmHeadOp : QPal_Op<"lm_head", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Projects hidden states to vocabulary logits";
  let description = [{
    `logits = x W^T` with the vocab x hidden weight `@weight`; with tied
    embeddings it names the embedding table. The LM head is not part of the
    mixed-scheme allocation and stays unquantized.

    ```mlir
    %logits = qpal.lm_head %h, @token_embd
        : tensor<?x576xf32> -> tensor<?x49152xf32>
    ```
  }];
  let arguments = (ins QPal_Activation:$input, FlatSymbolRefAttr:$weight);
  let results = (outs QPal_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // QPAL_DIALECT_QPAL_QPALOPS_TD
