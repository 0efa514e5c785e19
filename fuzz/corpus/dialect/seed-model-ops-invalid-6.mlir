

func.func @rope_odd_head(%x: tensor<?x63xf32>, %p: tensor<?xi32>) -> tensor<?x63xf32> {
  // expected-error @+1 {{'qpal.rope' op expects a positive, even head_dim, got 63}}
  %0 = qpal.rope %x, %p {head_dim = 63, theta = 1.0e4 : f64} : tensor<?x63xf32>, tensor<?xi32>
  return %0 : tensor<?x63xf32>
}

