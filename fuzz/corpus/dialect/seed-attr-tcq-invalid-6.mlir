

// expected-error @+1 {{parameter 'kv' of #qpal.tcq is given twice}}
func.func private @repeated_key() attributes {q = #qpal.tcq<kv = 6, kv = 7>}

