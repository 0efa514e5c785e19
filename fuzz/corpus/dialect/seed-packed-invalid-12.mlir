

// The result type must be the declared one; the note points at the weight.
// expected-note @+1 {{weight declared here}}
qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<512xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)
func.func @wrong_type() {
  // expected-error @+1 {{'qpal.get_weight' op expects the type of '@o', '!qpal.packed<32x32, #qpal.sq<bits = 4>>', got '!qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>'}}
  %w = qpal.get_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
  return
}

