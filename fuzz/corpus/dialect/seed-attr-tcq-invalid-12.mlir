

// A computed code reads no table, so it takes no table size.
// expected-error @+1 {{#qpal.tcq: the computed code '3inst' reads no codebook: it takes no codebook size}}
func.func private @code_with_tlut() attributes {q = #qpal.tcq<kv = 6, tlut_bits = 10, code = "3inst">}
