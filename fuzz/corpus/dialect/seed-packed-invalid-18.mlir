

// The custom syntax cannot even spell zero results; the generic one can.
func.func @no_results(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects at least one result}}
  "qpal.quantized_linear"(%x, %w) : (tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) -> ()
  return
}

