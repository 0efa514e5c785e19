

qpal.weight @w : tensor<128x64xf32>
func.func @negative_sensitivity(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a sensitivity in [0, 1e30], got -5.000000e-01}}
  %0 = qpal.linear %x, @w {sensitivity = -0.5 : f64} : tensor<?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

