

// TCQ packs 32 x 32 supertiles: M = 100 does not tile.
qpal.weight @w : tensor<100x64xf32>
func.func @tcq_rows(%x: tensor<?x64xf32>) -> tensor<?x100xf32> {
  // expected-error @+1 {{'qpal.linear' op expects M divisible by 32 for tcq_6_none_0.9, got 100}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.tcq<kv = 6>} : tensor<?x64xf32> -> tensor<?x100xf32>
  return %0 : tensor<?x100xf32>
}

