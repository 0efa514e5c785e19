

func.func @roles_per_result(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects one role per result (2), got 3}}
  %g, %u = qpal.quantized_linear %x, %w {roles = [#qpal.role<q>, #qpal.role<k>, #qpal.role<v>]} : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<?x32xf32>
  return
}

