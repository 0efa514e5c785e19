

//===----------------------------------------------------------------------===//
// qpal.get_weight
//===----------------------------------------------------------------------===//

func.func @missing() {
  // expected-error @+1 {{'qpal.get_weight' op '@nowhere' does not reference a 'qpal.packed_weight'}}
  %w = qpal.get_weight @nowhere : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  return
}

