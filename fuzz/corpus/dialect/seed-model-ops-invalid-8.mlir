

func.func @rope_theta(%x: tensor<?x64xf32>, %p: tensor<?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rope' op expects a positive theta, got -1}}
  %0 = qpal.rope %x, %p {head_dim = 64, theta = -1.0 : f64} : tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x64xf32>
}

