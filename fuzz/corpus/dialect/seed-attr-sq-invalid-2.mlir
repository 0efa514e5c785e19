

// expected-error @+1 {{unknown parameter 'kv' for #qpal.sq, expected one of 'bits', 'scale', 'kernel', 'rounding'}}
func.func private @wrong_key() attributes {q = #qpal.sq<kv = 4>}

