

// The second parameter must be a quantizer.
// expected-error @+1 {{expects a quantizer attribute, got 3 : i64}}
func.func private @not_a_quantizer() attributes {t = !qpal.packed<64x64, 3 : i64>}

