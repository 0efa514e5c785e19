

// expected-error @+1 {{#qpal.sq expects the parameter 'bits'}}
func.func private @missing_bits() attributes {q = #qpal.sq<>}

