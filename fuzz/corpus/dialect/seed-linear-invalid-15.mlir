

qpal.weight @w : tensor<128x64xf32>
func.func @nan_sensitivity(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a sensitivity in [0, 1e30], got nan}}
  %0 = qpal.linear %x, @w {sensitivity = 0x7FF8000000000000 : f64} : tensor<?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

