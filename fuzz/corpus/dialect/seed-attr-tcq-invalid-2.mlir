

// Only the 2^9, 2^10 and 2^11-entry codebooks exist.
// expected-error @+1 {{#qpal.tcq: codebook bits must be in [9, 11], got 12}}
func.func private @tlut_too_large() attributes {q = #qpal.tcq<kv = 6, tlut_bits = 12>}

