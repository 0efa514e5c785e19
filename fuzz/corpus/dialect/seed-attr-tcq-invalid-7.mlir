

// expected-error @+1 {{parameter 'kv' of #qpal.tcq must be a non-negative 32-bit integer, got -3}}
func.func private @negative() attributes {q = #qpal.tcq<kv = -3>}

