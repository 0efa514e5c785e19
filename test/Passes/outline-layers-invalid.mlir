// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-outline-layers

// An entry point (llvm.emit_c_interface) must have the step ABI of
// qpal-outline-steps: the parts take its position and KV cache.
// expected-error @+1 {{'func.func' op is not a step entry point of qpal-outline-steps: expects (tokens, position: index, cache {qpal.kv_cache}, logits) -> ()}}
func.func @qpal_step_b1(%tokens: memref<1xi32>, %logits: memref<1x64xf32>) attributes {llvm.emit_c_interface} {
  return
}

// -----

// The cache is the third argument and carries the marker.
// expected-error @+1 {{'func.func' op is not a step entry point of qpal-outline-steps}}
func.func @qpal_step_b1(%tokens: memref<1xi32>, %position: index, %cache: memref<?x?x16xf32>, %logits: memref<1x64xf32>) attributes {llvm.emit_c_interface} {
  return
}

// -----

// The marker of an outlined part is a unit attribute on a function.
// expected-error @+1 {{'qpal.step_part' is a unit attribute on a function}}
func.func private @part() attributes {qpal.step_part = 1 : i64}

// -----

func.func @f() {
  // expected-error @+1 {{'qpal.step_part' is a unit attribute on a function}}
  %c = arith.constant {qpal.step_part} 0 : index
  return
}
