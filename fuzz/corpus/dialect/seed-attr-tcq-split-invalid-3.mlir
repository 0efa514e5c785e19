

// expected-error @+1 {{#qpal.tcq_split: codebook bits must be in [9, 11], got 8}}
func.func private @tlut_too_small() attributes {q = #qpal.tcq_split<kv1 = 6, kv2 = 7, tlut_bits = 8>}
