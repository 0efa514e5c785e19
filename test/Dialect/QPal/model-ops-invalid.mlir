// RUN: qpal-opt %s -split-input-file -verify-diagnostics

qpal.weight @table : tensor<1000x64xf32>
func.func @embedding_rank(%ids: tensor<?xi32>) -> tensor<?x?x64xf32> {
  // expected-error @+1 {{'qpal.embedding' op expects the result to add one feature dimension to the ids, got 'tensor<?xi32>' -> 'tensor<?x?x64xf32>'}}
  %0 = qpal.embedding %ids, @table : tensor<?xi32> -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// -----

qpal.weight @table : tensor<1000x64xf32>
func.func @embedding_tokens(%ids: tensor<3xi32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{'qpal.embedding' op expects the result's token dimensions to match the ids, got 'tensor<3xi32>' -> 'tensor<4x64xf32>'}}
  %0 = qpal.embedding %ids, @table : tensor<3xi32> -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

qpal.weight @table : tensor<1000x64xf32>
func.func @embedding_hidden(%ids: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'qpal.embedding' op expects a result (the table's hidden size) of 64 features, got 32}}
  %0 = qpal.embedding %ids, @table : tensor<?xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

qpal.weight @gain : tensor<64xf32>
func.func @norm_epsilon(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rms_norm' op expects a positive epsilon, got 0}}
  %0 = qpal.rms_norm %x, @gain {epsilon = 0.0 : f64} : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

qpal.weight @gain : tensor<32xf32>
func.func @norm_gain_size(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rms_norm' op expects an input (the gain's size) of 32 features, got 64}}
  %0 = qpal.rms_norm %x, @gain {epsilon = 1.0e-5 : f64} : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// expected-note @+1 {{weight declared here}}
qpal.weight @gain : tensor<64x64xf32>
func.func @norm_gain_rank(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rms_norm' op expects a rank-1 weight, '@gain' is 'tensor<64x64xf32>'}}
  %0 = qpal.rms_norm %x, @gain {epsilon = 1.0e-5 : f64} : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @rope_odd_head(%x: tensor<?x63xf32>, %p: tensor<?xi32>) -> tensor<?x63xf32> {
  // expected-error @+1 {{'qpal.rope' op expects a positive, even head_dim, got 63}}
  %0 = qpal.rope %x, %p {head_dim = 63, theta = 1.0e4 : f64} : tensor<?x63xf32>, tensor<?xi32>
  return %0 : tensor<?x63xf32>
}

// -----

func.func @rope_features(%x: tensor<?x96xf32>, %p: tensor<?xi32>) -> tensor<?x96xf32> {
  // expected-error @+1 {{'qpal.rope' op expects features divisible by head_dim 64, got 96}}
  %0 = qpal.rope %x, %p {head_dim = 64, theta = 1.0e4 : f64} : tensor<?x96xf32>, tensor<?xi32>
  return %0 : tensor<?x96xf32>
}

// -----

func.func @rope_theta(%x: tensor<?x64xf32>, %p: tensor<?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rope' op expects a positive theta, got -1}}
  %0 = qpal.rope %x, %p {head_dim = 64, theta = -1.0 : f64} : tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @rope_positions(%x: tensor<?x64xf32>, %p: tensor<?x?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rope' op expects one position per token, got 'tensor<?x?xi32>' for 'tensor<?x64xf32>'}}
  %0 = qpal.rope %x, %p {head_dim = 64, theta = 1.0e4 : f64} : tensor<?x64xf32>, tensor<?x?xi32>
  return %0 : tensor<?x64xf32>
}

// -----

// inverse_frequencies replaces theta's schedule: one per pair of a head.
func.func @rope_frequency_count(%x: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.rope' op expects head_dim / 2 = 4 inverse frequencies, got 3}}
  %0 = qpal.rope %x, %p {head_dim = 8, theta = 1.0e4 : f64, inverse_frequencies = array<f32: 1.0, 0.5, 0.25>} : tensor<?x8xf32>, tensor<?xi32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @rope_frequency_zero(%x: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.rope' op expects positive, finite inverse frequencies}}
  %0 = qpal.rope %x, %p {head_dim = 8, theta = 1.0e4 : f64, inverse_frequencies = array<f32: 1.0, 0.5, 0.0, 0.25>} : tensor<?x8xf32>, tensor<?xi32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @rope_frequency_negative(%x: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.rope' op expects positive, finite inverse frequencies}}
  %0 = qpal.rope %x, %p {head_dim = 8, theta = 1.0e4 : f64, inverse_frequencies = array<f32: 1.0, 0.5, -2.0, 0.25>} : tensor<?x8xf32>, tensor<?xi32>
  return %0 : tensor<?x8xf32>
}

// -----

// 0x7F800000 is +inf.
func.func @rope_frequency_inf(%x: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.rope' op expects positive, finite inverse frequencies}}
  %0 = qpal.rope %x, %p {head_dim = 8, theta = 1.0e4 : f64, inverse_frequencies = array<f32: 1.0, 0.5, 0x7F800000, 0.25>} : tensor<?x8xf32>, tensor<?xi32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @gqa_groups(%q: tensor<?x576xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects num_heads to be a multiple of num_kv_heads (grouped-query attention), got 9 and 4}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 4, head_dim = 64} : tensor<?x576xf32>, tensor<?x256xf32>, tensor<?x256xf32>
  return %0 : tensor<?x576xf32>
}

// -----

func.func @attention_heads(%q: tensor<?x576xf32>, %k: tensor<?x192xf32>, %v: tensor<?x192xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects positive num_heads, num_kv_heads and head_dim, got 0, 3, 64}}
  %0 = qpal.attention %q, %k, %v {num_heads = 0, num_kv_heads = 3, head_dim = 64} : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
  return %0 : tensor<?x576xf32>
}

// -----

func.func @attention_query(%q: tensor<?x512xf32>, %k: tensor<?x192xf32>, %v: tensor<?x192xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'qpal.attention' op expects a query (num_heads * head_dim) of 576 features, got 512}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<?x512xf32>, tensor<?x192xf32>, tensor<?x192xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @attention_key(%q: tensor<?x576xf32>, %k: tensor<?x128xf32>, %v: tensor<?x192xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects a key (num_kv_heads * head_dim) of 192 features, got 128}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<?x576xf32>, tensor<?x128xf32>, tensor<?x192xf32>
  return %0 : tensor<?x576xf32>
}

// -----

func.func @attention_value(%q: tensor<?x576xf32>, %k: tensor<?x192xf32>, %v: tensor<?x64xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects a value (num_kv_heads * head_dim) of 192 features, got 64}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x64xf32>
  return %0 : tensor<?x576xf32>
}

// -----

func.func @attention_tokens(%q: tensor<4x576xf32>, %k: tensor<5x192xf32>, %v: tensor<5x192xf32>) -> tensor<4x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects query and key to have the same token dimensions, got 'tensor<4x576xf32>' and 'tensor<5x192xf32>'}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<4x576xf32>, tensor<5x192xf32>, tensor<5x192xf32>
  return %0 : tensor<4x576xf32>
}

// -----

// expected-note @+1 {{prior use here}}
func.func @swiglu_types(%g: tensor<?x64xf32>, %u: tensor<?x32xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{use of value '%u' expects different type than prior uses: 'tensor<?x64xf32>' vs 'tensor<?x32xf32>'}}
  %0 = qpal.swiglu %g, %u : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

qpal.weight @head : tensor<1000x64xf32>
func.func @lm_head_vocab(%x: tensor<?x64xf32>) -> tensor<?x999xf32> {
  // expected-error @+1 {{'qpal.lm_head' op expects a result (the weight's vocabulary size) of 1000 features, got 999}}
  %0 = qpal.lm_head %x, @head : tensor<?x64xf32> -> tensor<?x999xf32>
  return %0 : tensor<?x999xf32>
}

// -----

qpal.weight @head : tensor<1000x64xf32>
func.func @lm_head_hidden(%x: tensor<?x32xf32>) -> tensor<?x1000xf32> {
  // expected-error @+1 {{'qpal.lm_head' op expects an input (the weight's hidden size) of 64 features, got 32}}
  %0 = qpal.lm_head %x, @head : tensor<?x32xf32> -> tensor<?x1000xf32>
  return %0 : tensor<?x1000xf32>
}

// -----

qpal.weight @head : tensor<1000x64xf32>
func.func @lm_head_rank(%x: tensor<2x?x64xf32>) -> tensor<?x1000xf32> {
  // expected-error @+1 {{'qpal.lm_head' op expects input and result of the same rank, got 3 and 2}}
  %0 = qpal.lm_head %x, @head : tensor<2x?x64xf32> -> tensor<?x1000xf32>
  return %0 : tensor<?x1000xf32>
}

// -----

// qpal.layer numbers a step's attention ops (its KV cache planes); no other
// op has a cache plane.
func.func @layer_on_rope(%x: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.layer' must be a non-negative integer on a 'qpal.attention'}}
  %0 = qpal.rope %x, %p {head_dim = 8, theta = 1.0e4 : f64, qpal.layer = 0} : tensor<?x8xf32>, tensor<?xi32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @layer_negative(%q: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.layer' must be a non-negative integer on a 'qpal.attention'}}
  %0 = qpal.attention %q, %q, %q {num_heads = 1, num_kv_heads = 1, head_dim = 8, qpal.layer = -1} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @layer_not_integer(%q: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.layer' must be a non-negative integer on a 'qpal.attention'}}
  %0 = qpal.attention %q, %q, %q {num_heads = 1, num_kv_heads = 1, head_dim = 8, qpal.layer = "zero"} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// The KV cache is a buffer the runtime owns: [2 x layers, capacity, width]
// in f32.
// expected-error @+1 {{'qpal.kv_cache' marks a rank-3 f32 memref argument, got 'tensor<?x?x8xf32>'}}
func.func @kv_cache_tensor(%cache: tensor<?x?x8xf32> {qpal.kv_cache}) {
  return
}

// -----

// expected-error @+1 {{'qpal.kv_cache' marks a rank-3 f32 memref argument, got 'memref<?x8xf32>'}}
func.func @kv_cache_rank(%cache: memref<?x8xf32> {qpal.kv_cache}) {
  return
}

// -----

// expected-error @+1 {{'qpal.kv_cache' marks a rank-3 f32 memref argument, got 'memref<?x?x8xf16>'}}
func.func @kv_cache_f16(%cache: memref<?x?x8xf16> {qpal.kv_cache}) {
  return
}

// -----

// expected-error @+1 {{unknown qpal argument attribute 'qpal.cache'}}
func.func @unknown_argument_attribute(%cache: memref<?x?x8xf32> {qpal.cache}) {
  return
}
