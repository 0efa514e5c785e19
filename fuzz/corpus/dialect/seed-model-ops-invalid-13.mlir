

// 0x7F800000 is +inf.
func.func @rope_frequency_inf(%x: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.rope' op expects positive, finite inverse frequencies}}
  %0 = qpal.rope %x, %p {head_dim = 8, theta = 1.0e4 : f64, inverse_frequencies = array<f32: 1.0, 0.5, 0x7F800000, 0.25>} : tensor<?x8xf32>, tensor<?xi32>
  return %0 : tensor<?x8xf32>
}

