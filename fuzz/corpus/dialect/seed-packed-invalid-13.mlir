

//===----------------------------------------------------------------------===//
// qpal.quantized_linear
//===----------------------------------------------------------------------===//

func.func @wrong_k(%x: tensor<?x64xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects an input of 32 features (the weight's K), got 'tensor<?x64xf32>'}}
  %y = qpal.quantized_linear %x, %w : tensor<?x64xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x64xf32>
  return
}

