

qpal.weight @gain : tensor<64xf32>
func.func @norm_epsilon(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rms_norm' op expects a positive epsilon, got 0}}
  %0 = qpal.rms_norm %x, @gain {epsilon = 0.0 : f64} : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

