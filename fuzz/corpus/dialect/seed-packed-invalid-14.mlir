

// q/k/v rows 32 + 16 + 8 = 56 leave 8 of the 64 rows without a result.
func.func @rows_do_not_add_up(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects the results' features to add up to the weight's M = 64, got 56}}
  %q, %k, %v = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x8xf32>
  return
}

