
// A split of one rate is plain TCQ.
// expected-error @+1 {{#qpal.tcq_split: a split needs two different rates, got KV1 = KV2 = 6; use tcq_6}}
func.func private @same_rates() attributes {q = #qpal.tcq_split<kv1 = 6, kv2 = 6>}

