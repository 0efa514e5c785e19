

// expected-error @+1 {{#qpal.tcq: KV must be in [2, 10], got 1}}
func.func private @kv_too_small() attributes {q = #qpal.tcq<kv = 1>}

