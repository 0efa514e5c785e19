
// expected-error @+1 {{#qpal.sq: SQ index bits must be in [2, 8], got 9}}
func.func private @too_many_bits() attributes {q = #qpal.sq<bits = 9>}

