

// expected-note @+1 {{weight declared here}}
qpal.weight @gain : tensor<64x64xf32>
func.func @norm_gain_rank(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rms_norm' op expects a rank-1 weight, '@gain' is 'tensor<64x64xf32>'}}
  %0 = qpal.rms_norm %x, @gain {epsilon = 1.0e-5 : f64} : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

