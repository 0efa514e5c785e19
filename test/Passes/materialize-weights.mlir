// RUN: qpal-opt %s -split-input-file -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama.gguf" | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama.gguf" | qpal-opt -split-input-file | FileCheck %s

// The weights name tensors of the tiny test model (hidden 32, MLP 48). The
// second RUN line re-parses the blobs the pass prints (the weight verifier
// checks each blob's size against its type).

// The type of a weight's value is what its readers need:
// - a norm gain is read in f32;
// - a weight that only f16 linears read is stored in f16 (half the bytes);
// - a weight that a dense linear without a quantizer also reads needs f32,
//   even when an f16 linear reads it too;
// - a weight nothing reads gets no value;
// - a weight that has a value keeps it (no file read).
// The blob keys are the weight names.
// CHECK-LABEL: module {
// CHECK-NEXT: qpal.weight @norm : tensor<32xf32> {source = "model.norm.weight", value = dense_resource<norm> : tensor<32xf32>}
// CHECK-NEXT: qpal.weight @down : tensor<32x48xf32> {source = "model.layers.0.mlp.down_proj.weight", value = dense_resource<down> : tensor<32x48xf16>}
// CHECK-NEXT: qpal.weight @mixed : tensor<32x48xf32> {source = "model.layers.0.mlp.down_proj.weight", value = dense_resource<mixed> : tensor<32x48xf32>}
// CHECK-NEXT: qpal.weight @unread : tensor<32x48xf32> {source = "model.layers.1.mlp.down_proj.weight"}
// CHECK-NEXT: qpal.weight @preset : tensor<32xf32> {source = "model.layers.1.input_layernorm.weight", value = dense<2.500000e+00> : tensor<32xf32>}
// CHECK-NEXT: func.func @readers
// The blobs (alignment word, then little-endian values): the norm's 32 f32s
// start 1.046875 (0x3F860000), 1.1171875 (0x3F8F0000); down_proj's values
// start 0.26953125 and 0.0107421875, as f16 (0x3450, 0x2180) in @down and as
// f32 (0x3E8A0000, 0x3C300000) in @mixed. Nothing else has a blob. (The
// second RUN line's verifier checks every blob's byte count: 2 or 4 per
// element of the value's type.)
// CHECK: dialect_resources: {
// CHECK-NEXT: builtin: {
// CHECK-NEXT: norm: "0x040000000000863F00008F3F{{([0-9A-F]{8}){30}"}},
// CHECK-NEXT: down: "0x0200000050348021{{[0-9A-F]+"}},
// CHECK-NEXT: mixed: "0x0400000000008A3E0000303C{{[0-9A-F]+"}}
// CHECK-NEXT: }
qpal.weight @norm : tensor<32xf32> {source = "model.norm.weight"}
qpal.weight @down : tensor<32x48xf32> {source = "model.layers.0.mlp.down_proj.weight"}
qpal.weight @mixed : tensor<32x48xf32> {source = "model.layers.0.mlp.down_proj.weight"}
qpal.weight @unread : tensor<32x48xf32> {source = "model.layers.1.mlp.down_proj.weight"}
qpal.weight @preset : tensor<32xf32> {source = "model.layers.1.input_layernorm.weight", value = dense<2.5> : tensor<32xf32>}
func.func @readers(%x: tensor<?x32xf32>, %h: tensor<?x48xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %n = qpal.rms_norm %x, @norm {epsilon = 1.0e-5 : f64} : tensor<?x32xf32>
  %d0 = qpal.linear %h, @down {quantizer = #qpal.f16} : tensor<?x48xf32> -> tensor<?x32xf32>
  %d1 = qpal.linear %h, @down {quantizer = #qpal.f16} : tensor<?x48xf32> -> tensor<?x32xf32>
  %m0 = qpal.linear %h, @mixed {quantizer = #qpal.f16} : tensor<?x48xf32> -> tensor<?x32xf32>
  %m1 = qpal.linear %h, @mixed : tensor<?x48xf32> -> tensor<?x32xf32>
  %p = qpal.rms_norm %x, @preset {epsilon = 1.0e-5 : f64} : tensor<?x32xf32>
  return %n, %d0, %d1, %m0, %m1, %p : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// Without a `source`, the weight's name is the tensor's name. The embedding
// table keeps the file's f16 (materialize-weights-embedding.mlir has the
// other storages); the LM head is read in f32.
// CHECK-LABEL: module {
// CHECK-NEXT: qpal.weight @model.embed_tokens.weight : tensor<64x32xf32> {value = dense_resource<model.embed_tokens.weight> : tensor<64x32xf16>}
// CHECK-NEXT: qpal.weight @lm_head.weight : tensor<64x32xf32> {value = dense_resource<lm_head.weight> : tensor<64x32xf32>}
// CHECK: model.embed_tokens.weight: "0x08000000{{[0-9A-F]+"}},
// CHECK-NEXT: lm_head.weight: "0x04000000{{[0-9A-F]+"}}
qpal.weight @model.embed_tokens.weight : tensor<64x32xf32>
qpal.weight @lm_head.weight : tensor<64x32xf32>
func.func @embedding_and_head(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = qpal.embedding %ids, @model.embed_tokens.weight : tensor<?xi32> -> tensor<?x32xf32>
  %l = qpal.lm_head %x, @lm_head.weight : tensor<?x32xf32> -> tensor<?x64xf32>
  return %l : tensor<?x64xf32>
}

// -----

// Nothing reads a weight: the module is unchanged, and the model file
// (which does not have this tensor) is not even opened.
// CHECK-LABEL: module {
// CHECK-NEXT: qpal.weight @ghost : tensor<32xf32> {source = "no.such.tensor"}
// CHECK-NEXT: }
// CHECK-NOT: dialect_resources
qpal.weight @ghost : tensor<32xf32> {source = "no.such.tensor"}
