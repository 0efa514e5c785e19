
// expected-error @+1 {{#qpal.vq: VQ index bits must be in [2, 12], got 13}}
func.func private @too_many_bits() attributes {q = #qpal.vq<bits = 13>}

