

// TCQ tiles rows by 32-row supertiles: 16 rows cannot be packed.
// expected-error @+1 {{expects M divisible by 32 for tcq_6_none_0.9, got 16}}
func.func private @tcq_16_rows() attributes {t = !qpal.packed<16x64, #qpal.tcq<kv = 6>>}

