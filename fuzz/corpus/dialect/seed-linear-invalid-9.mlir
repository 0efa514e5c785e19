

qpal.weight @w : tensor<128x64xf32>
func.func @wrong_k(%x: tensor<?x96xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects an input (the weight's K) of 64 features, got 96}}
  %0 = qpal.linear %x, @w : tensor<?x96xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

