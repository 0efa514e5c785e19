

qpal.weight @w : tensor<128x64xf32>
func.func @token_mismatch(%x: tensor<4x64xf32>) -> tensor<5x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects input and result to have the same token dimensions, got 'tensor<4x64xf32>' and 'tensor<5x128xf32>'}}
  %0 = qpal.linear %x, @w : tensor<4x64xf32> -> tensor<5x128xf32>
  return %0 : tensor<5x128xf32>
}

