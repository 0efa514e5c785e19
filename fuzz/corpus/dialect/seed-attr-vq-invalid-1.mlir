

// expected-error @+1 {{#qpal.vq: VQ index bits must be in [2, 12], got 1}}
func.func private @too_few_bits() attributes {q = #qpal.vq<bits = 1>}

