

qpal.weight @w : tensor<128x64xf32>
func.func @rank_mismatch(%x: tensor<2x?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects input and result of the same rank, got 3 and 2}}
  %0 = qpal.linear %x, @w : tensor<2x?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

