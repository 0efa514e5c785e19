
// KV is the number of trellis bits per 2-weight step: 2..10.
// expected-error @+1 {{#qpal.tcq: KV must be in [2, 10], got 11}}
func.func private @kv_too_large() attributes {q = #qpal.tcq<kv = 11>}

