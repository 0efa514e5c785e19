

// Each half of a column split is its own matrix of 32-column supertiles.
qpal.weight @w : tensor<64x96xf32>
func.func @split_cols(%x: tensor<?x96xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects K divisible by 64 for tcomb_6_7_0.5_none_0.9, got 96}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>} : tensor<?x96xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

