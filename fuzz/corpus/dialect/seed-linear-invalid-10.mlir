

qpal.weight @w : tensor<128x64xf32>
func.func @wrong_m(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a result (the weight's M) of 128 features, got 64}}
  %0 = qpal.linear %x, @w : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

