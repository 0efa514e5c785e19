// RUN: qpal-opt %s -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama-vocab-embd-q4_1.gguf" | FileCheck %s --check-prefix=Q41
// RUN: qpal-opt %s -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama-vocab-embd-q4_1.gguf" | qpal-opt | FileCheck %s --check-prefix=Q41
// RUN: qpal-opt %s -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama-vocab-embd-q8_0.gguf" | FileCheck %s --check-prefix=Q80
// RUN: qpal-opt %s -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama.gguf" | FileCheck %s --check-prefix=F16
// RUN: qpal-opt %s -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama" | FileCheck %s --check-prefix=BF16
// RUN: qpal-opt %s -qpal-materialize-weights="model=%S/../Model/Inputs/tiny-llama-vocab-embd-q4_1.gguf dense-embedding=true" | FileCheck %s --check-prefix=DENSE

// A table that only embedding lookups read keeps the model file's storage:
// a ggml block format as its bytes, with the format as `storage` (the
// second RUN line re-parses the blob: the verifier checks its size); f16 and
// bf16 as elements. A table the LM head also reads (tied embeddings, the
// head not quantized) is read by a product, in f32. `dense-embedding` keeps
// every table in f32.

// Q41: qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight", storage = "q4_1", value = dense_resource<embed> : tensor<64x20xi8>}
// Q41-NEXT: qpal.weight @tied : tensor<64x32xf32> {source = "model.embed_tokens.weight", value = dense_resource<tied> : tensor<64x32xf32>}
// Q80: qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight", storage = "q8_0", value = dense_resource<embed> : tensor<64x34xi8>}
// F16: qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight", value = dense_resource<embed> : tensor<64x32xf16>}
// BF16: qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight", value = dense_resource<embed> : tensor<64x32xbf16>}
// DENSE: qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight", value = dense_resource<embed> : tensor<64x32xf32>}

// The blob is the file's bytes (after the alignment word): row 0's q4_1
// block starts with its f16 scale 0x364D and minimum 0xC098, then the
// nibbles; q8_0's with its scale 0x2747, then the codes.
// Q41: embed: "0x080000004D3698C09A540655{{[0-9A-F]+"}},
// Q80: embed: "0x0800000047273FE601F57F06{{[0-9A-F]+"}},

qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight"}
qpal.weight @tied : tensor<64x32xf32> {source = "model.embed_tokens.weight"}
func.func @lookups(%ids: tensor<?xi32>) -> (tensor<?x32xf32>, tensor<?x64xf32>) {
  %x = qpal.embedding %ids, @embed : tensor<?xi32> -> tensor<?x32xf32>
  %y = qpal.embedding %ids, @tied : tensor<?xi32> -> tensor<?x32xf32>
  %l = qpal.lm_head %y, @tied : tensor<?x32xf32> -> tensor<?x64xf32>
  return %x, %l : tensor<?x32xf32>, tensor<?x64xf32>
}
