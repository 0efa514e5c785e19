

// expected-error @+1 {{expected integer value}}
func.func private @not_a_number() attributes {q = #qpal.tcq<kv = six>}

