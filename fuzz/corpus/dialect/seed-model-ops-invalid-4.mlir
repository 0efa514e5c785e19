

qpal.weight @gain : tensor<32xf32>
func.func @norm_gain_size(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.rms_norm' op expects an input (the gain's size) of 32 features, got 64}}
  %0 = qpal.rms_norm %x, @gain {epsilon = 1.0e-5 : f64} : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

