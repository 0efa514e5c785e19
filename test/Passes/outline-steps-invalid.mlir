// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-outline-steps
// RUN: not qpal-opt %s -split-input-file -qpal-outline-steps="batches=0,4" 2>&1 | FileCheck %s --check-prefix=BATCH0

// A batch of no tokens has no entry point. The sizes are checked after the
// forward function (whose errors come first, as in the other splits) and
// before any entry point is made (the last split's clash is not reached).
// BATCH0-NOT: expects positive batch sizes
// BATCH0: error: 'qpal.attention' op has 8 key/value features where an earlier attention has 16
// BATCH0: error: qpal-outline-steps expects positive batch sizes, got 0
// BATCH0: error: qpal-outline-steps expects positive batch sizes, got 0
// BATCH0-NOT: error: qpal-outline-steps: the module already has

// There is nothing to outline without the imported forward function.
// expected-error @+1 {{qpal-outline-steps expects the imported model's '@forward' function}}
module {
  func.func @main(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x64xf32> {
    %c = tensor.empty() : tensor<1x64xf32>
    %d = tensor.cast %c : tensor<1x64xf32> to tensor<?x64xf32>
    return %d : tensor<?x64xf32>
  }
}

// -----

// The signature is (tokens, positions) -> logits, all over a dynamic number
// of tokens.
// expected-error @+1 {{'func.func' op expects the signature (tokens: tensor<?xi32>, positions: tensor<?xi32>) -> tensor<?xVxf32> of an imported model, got '(tensor<?xi32>) -> tensor<?x64xf32>'}}
func.func @forward(%tokens: tensor<?xi32>) -> tensor<?x64xf32> {
  %c = tensor.empty() : tensor<1x64xf32>
  %d = tensor.cast %c : tensor<1x64xf32> to tensor<?x64xf32>
  return %d : tensor<?x64xf32>
}

// -----

// The number of tokens is what the entry points fix: it must be dynamic.
// expected-error @+1 {{'func.func' op expects the signature (tokens: tensor<?xi32>, positions: tensor<?xi32>) -> tensor<?xVxf32> of an imported model, got '(tensor<4xi32>, tensor<4xi32>) -> tensor<4x64xf32>'}}
func.func @forward(%tokens: tensor<4xi32>, %positions: tensor<4xi32>) -> tensor<4x64xf32> {
  %c = tensor.empty() : tensor<4x64xf32>
  return %c : tensor<4x64xf32>
}

// -----

// The vocabulary (the logits' width) sizes the logits buffer.
// expected-error @+1 {{'func.func' op expects the signature (tokens: tensor<?xi32>, positions: tensor<?xi32>) -> tensor<?xVxf32> of an imported model, got '(tensor<?xi32>, tensor<?xi32>) -> tensor<?x?xf32>'}}
func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x?xf32> {
  %c = tensor.empty() : tensor<1x64xf32>
  %d = tensor.cast %c : tensor<1x64xf32> to tensor<?x?xf32>
  return %d : tensor<?x?xf32>
}

// -----

// A declaration has no body to copy.
// expected-error @+1 {{'func.func' op expects a single-block body}}
func.func private @forward(tensor<?xi32>, tensor<?xi32>) -> tensor<?x64xf32>

// -----

// Without attention there is nothing to cache, and no cache width.
qpal.weight @embed : tensor<64x32xf32>
qpal.weight @head : tensor<64x32xf32>
// expected-error @+1 {{'func.func' op has no 'qpal.attention': nothing to cache}}
func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = qpal.embedding %tokens, @embed : tensor<?xi32> -> tensor<?x32xf32>
  %l = qpal.lm_head %x, @head : tensor<?x32xf32> -> tensor<?x64xf32>
  return %l : tensor<?x64xf32>
}

// -----

// One cache holds every layer's keys and values, so every attention has
// the same key/value width (num_kv_heads x head_dim): here 16, then 8.
qpal.weight @embed : tensor<64x32xf32>
qpal.weight @head : tensor<64x32xf32>
func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = qpal.embedding %tokens, @embed : tensor<?xi32> -> tensor<?x32xf32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x32xf32>
  %kv16 = tensor.extract_slice %x[0, 0] [%n, 16] [1, 1] : tensor<?x32xf32> to tensor<?x16xf32>
  %kv8 = tensor.extract_slice %x[0, 0] [%n, 8] [1, 1] : tensor<?x32xf32> to tensor<?x8xf32>
  %a = qpal.attention %x, %kv16, %kv16 {num_heads = 4, num_kv_heads = 2, head_dim = 8} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  // expected-error @+1 {{'qpal.attention' op has 8 key/value features where an earlier attention has 16: one KV cache holds every layer}}
  %b = qpal.attention %a, %kv8, %kv8 {num_heads = 4, num_kv_heads = 1, head_dim = 8} : tensor<?x32xf32>, tensor<?x8xf32>, tensor<?x8xf32>
  %l = qpal.lm_head %b, @head : tensor<?x32xf32> -> tensor<?x64xf32>
  return %l : tensor<?x64xf32>
}

// -----

// Every dynamic leading dimension is taken for the token dimension: the
// cast of the first row to dynamic key rows holds for 1 token but not once
// those are fixed to 8. That entry point is rejected, at the forward
// function's location.
qpal.weight @embed : tensor<64x32xf32>
qpal.weight @head : tensor<64x32xf32>
// expected-error @+1 {{'func.func' op is not valid after fixing the batch to 8}}
func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = qpal.embedding %tokens, @embed : tensor<?xi32> -> tensor<?x32xf32>
  %first = tensor.extract_slice %x[0, 0] [1, 32] [1, 1] : tensor<?x32xf32> to tensor<1x32xf32>
  // expected-error @+1 {{'tensor.cast' op operand type 'tensor<1x32xf32>' and result type 'tensor<8x32xf32>' are cast incompatible}}
  %k = tensor.cast %first : tensor<1x32xf32> to tensor<?x32xf32>
  %a = qpal.attention %x, %k, %k {num_heads = 4, num_kv_heads = 4, head_dim = 8} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %l = qpal.lm_head %a, @head : tensor<?x32xf32> -> tensor<?x64xf32>
  return %l : tensor<?x64xf32>
}

// -----

// The entry points' names are the runtime's: one already taken is an error.
// expected-error @+1 {{qpal-outline-steps: the module already has a '@qpal_step_b1'}}
module {
  qpal.weight @embed : tensor<64x32xf32>
  qpal.weight @head : tensor<64x32xf32>
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x64xf32> {
    %x = qpal.embedding %tokens, @embed : tensor<?xi32> -> tensor<?x32xf32>
    %a = qpal.attention %x, %x, %x {num_heads = 4, num_kv_heads = 4, head_dim = 8} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
    %l = qpal.lm_head %a, @head : tensor<?x32xf32> -> tensor<?x64xf32>
    return %l : tensor<?x64xf32>
  }
  func.func @qpal_step_b1() {
    return
  }
}
