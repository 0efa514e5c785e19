

// A packed weight is a matrix.
// expected-error @+1 {{expects an M x K shape, got 3 dimensions}}
func.func private @rank_3() attributes {t = !qpal.packed<64x64x2, #qpal.tcq<kv = 6>>}

