

// expected-error @+1 {{#qpal.tcq_split: KV must be in [2, 10], got 11}}
func.func private @kv2_too_large() attributes {q = #qpal.tcq_split<kv1 = 10, kv2 = 11>}

