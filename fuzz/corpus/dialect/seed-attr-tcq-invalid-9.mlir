

// expected-error @+1 {{expected 'none' or 'hess' for 'rounding' of #qpal.tcq, got 'yes'}}
func.func private @tcq_rounding() attributes {q = #qpal.tcq<kv = 6, rounding = yes>}

