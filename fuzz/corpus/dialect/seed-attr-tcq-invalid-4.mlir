

// expected-error @+1 {{#qpal.tcq expects the parameter 'kv'}}
func.func private @missing_kv() attributes {q = #qpal.tcq<tlut_bits = 9>}

