

func.func @dynamic_features(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects results with a static feature dimension, got 'tensor<?x?xf32>'}}
  %y = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x?xf32>
  return
}

