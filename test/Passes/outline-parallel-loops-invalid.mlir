// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-outline-parallel-loops

// The thread pool splits one range of iterations: a loop of two dimensions
// is not split.
func.func @two_dimensions(%out: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{qpal-outline-parallel-loops expects a one-dimensional scf.parallel without results, got 2 dimensions and 0 results}}
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    memref.store %zero, %out[%i, %j] : memref<4x4xf32>
    scf.reduce
  }
  return
}

// -----

// Nor a reduction: the iterations' results would need combining.
func.func @reduction(%in: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{qpal-outline-parallel-loops expects a one-dimensional scf.parallel without results, got 1 dimensions and 1 results}}
  %sum = scf.parallel (%i) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
    %v = memref.load %in[%i] : memref<4xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// -----

// The marker names a call whose last two operands are the range.
func.func @marked() -> index {
  // expected-error @+1 {{'qpal.parallel_loop' is a unit attribute on a call whose last two operands are an iteration range}}
  %c0 = arith.constant {qpal.parallel_loop} 0 : index
  return %c0 : index
}

// -----

func.func private @nothing()
func.func @no_range() {
  // expected-error @+1 {{'qpal.parallel_loop' is a unit attribute on a call whose last two operands are an iteration range}}
  func.call @nothing() {qpal.parallel_loop} : () -> ()
  return
}
