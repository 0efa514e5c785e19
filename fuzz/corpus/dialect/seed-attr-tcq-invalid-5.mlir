

// expected-error @+1 {{unknown parameter 'bits' for #qpal.tcq, expected one of 'kv', 'tlut_bits', 'scale', 'rounding'}}
func.func private @unknown_key() attributes {q = #qpal.tcq<bits = 6>}

