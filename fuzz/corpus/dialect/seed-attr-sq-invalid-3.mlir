

// expected-error @+1 {{expected 'none' or 'hess' for 'rounding' of #qpal.sq, got 'gptq'}}
func.func private @bad_rounding() attributes {q = #qpal.sq<bits = 4, rounding = gptq>}
