

// expected-error @+1 {{#qpal.tcq_split expects the parameter 'kv2'}}
func.func private @missing_kv2() attributes {q = #qpal.tcq_split<kv1 = 6>}

