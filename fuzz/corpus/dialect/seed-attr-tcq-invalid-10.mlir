

// The range in the message is the quantizer's, not the parser's.
// expected-error @+1 {{#qpal.tcq: KV must be in [2, 10], got 99}}
func.func private @kv_far_out_of_range() attributes {q = #qpal.tcq<kv = 99>}

