

// qpal.layer numbers a step's attention ops (its KV cache planes); no other
// op has a cache plane.
func.func @layer_on_rope(%x: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.layer' must be a non-negative integer on a 'qpal.attention'}}
  %0 = qpal.rope %x, %p {head_dim = 8, theta = 1.0e4 : f64, qpal.layer = 0} : tensor<?x8xf32>, tensor<?xi32>
  return %0 : tensor<?x8xf32>
}

