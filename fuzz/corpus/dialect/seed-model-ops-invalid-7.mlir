

func.func @rope_features(%x: tensor<?x96xf32>, %p: tensor<?xi32>) -> tensor<?x96xf32> {
  // expected-error @+1 {{'qpal.rope' op expects features divisible by head_dim 64, got 96}}
  %0 = qpal.rope %x, %p {head_dim = 64, theta = 1.0e4 : f64} : tensor<?x96xf32>, tensor<?xi32>
  return %0 : tensor<?x96xf32>
}

