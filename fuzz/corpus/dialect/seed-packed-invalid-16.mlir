

// Every result has the input's token dimension: a static 4 is not a dynamic
// one.
func.func @token_mismatch(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects every result to have the input's token dimension, got 'tensor<4x32xf32>' for 'tensor<?x32xf32>'}}
  %a, %b = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<4x32xf32>
  return
}

