

// expected-error @+1 {{expects an M x K shape, got 1 dimension}}
func.func private @rank_1() attributes {t = !qpal.packed<64, #qpal.tcq<kv = 6>>}

