

// expected-error @+1 {{#qpal.tcq: scale must be positive and finite, got 0}}
func.func private @zero_scale() attributes {q = #qpal.tcq<kv = 6, scale = 0.0>}

