

// expected-error @+1 {{#qpal.vq: scale must be positive and finite, got -1}}
func.func private @negative_scale() attributes {q = #qpal.vq<bits = 6, scale = -1.0>}
