

func.func @rope_positions(%x: tensor<?x64xf32>, %p: tensor<?x?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rope' op expects one position per token, got 'tensor<?x?xi32>' for 'tensor<?x64xf32>'}}
  %0 = qpal.rope %x, %p {head_dim = 64, theta = 1.0e4 : f64} : tensor<?x64xf32>, tensor<?x?xi32>
  return %0 : tensor<?x64xf32>
}

