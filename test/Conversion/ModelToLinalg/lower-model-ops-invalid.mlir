// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-lower-model-ops

// A weight becomes a constant global of its value: without a value there is
// nothing to put in it.
qpal.weight @gain : tensor<32xf32>
func.func @weight_without_value(%x: tensor<4x32xf32>) -> tensor<4x32xf32> {
  // expected-error @+1 {{'qpal.rms_norm' op reads the weight '@gain', which has no value: run qpal-materialize-weights first}}
  %y = qpal.rms_norm %x, @gain {epsilon = 1.0e-5 : f64} : tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// The same for a dense linear inside a fusion group: the weights are checked
// before the groups are inlined.
qpal.weight @k : tensor<16x32xf32> {value = dense<1.0> : tensor<16x32xf32>}
qpal.weight @v : tensor<16x32xf32>
func.func @grouped_weight_without_value(%x: tensor<4x32xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %kv:2 = qpal.fusion_group -> (tensor<4x16xf32>, tensor<4x16xf32>) {
    %k = qpal.linear %x, @k {block = 0 : i64, role = #qpal.role<k>} : tensor<4x32xf32> -> tensor<4x16xf32>
    // expected-error @+1 {{'qpal.linear' op reads the weight '@v', which has no value: run qpal-materialize-weights first}}
    %v = qpal.linear %x, @v {block = 0 : i64, role = #qpal.role<v>} : tensor<4x32xf32> -> tensor<4x16xf32>
    qpal.yield %k, %v : tensor<4x16xf32>, tensor<4x16xf32>
  }
  return %kv#0, %kv#1 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Attention reads and writes the KV cache of a step entry point
// (qpal-outline-steps): in any other function it cannot be lowered.
func.func @attention_outside_step(%q: tensor<4x32xf32>, %kv: tensor<4x32xf32>) -> tensor<4x32xf32> {
  // expected-error @+1 {{failed to legalize operation 'qpal.attention' that was explicitly marked illegal}}
  %a = qpal.attention %q, %kv, %kv {num_heads = 4, num_kv_heads = 4, head_dim = 8} : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
  return %a : tensor<4x32xf32>
}

// -----

// In a function with a cache, an attention without its layer number has no
// cache plane.
func.func @attention_without_layer(%tokens: memref<4xi32>, %position: index, %cache: memref<?x?x32xf32> {qpal.kv_cache}, %q: tensor<4x32xf32>) -> tensor<4x32xf32> {
  // expected-error @+1 {{failed to legalize operation 'qpal.attention' that was explicitly marked illegal}}
  %a = qpal.attention %q, %q, %q {num_heads = 4, num_kv_heads = 4, head_dim = 8} : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
  return %a : tensor<4x32xf32>
}

// -----

// The products are lowered for the static token count of an entry point.
qpal.weight @w : tensor<16x32xf32> {value = dense<1.0> : tensor<16x32xf32>}
func.func @dynamic_tokens(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{failed to legalize operation 'qpal.linear' that was explicitly marked illegal}}
  %y = qpal.linear %x, @w : tensor<?x32xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
