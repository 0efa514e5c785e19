

qpal.weight @w : tensor<128x64xf32>
func.func @negative_block(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a non-negative block index, got -1}}
  %0 = qpal.linear %x, @w {block = -1} : tensor<?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

