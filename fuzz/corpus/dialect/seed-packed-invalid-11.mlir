

// A symbol of another kind is no packed weight either.
func.func private @f()
func.func @not_packed() {
  // expected-error @+1 {{'qpal.get_weight' op '@f' does not reference a 'qpal.packed_weight'}}
  %w = qpal.get_weight @f : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  return
}

