

// A SIMT thread decodes 32 two-dimensional codes: K must cover 64 columns.
qpal.weight @w : tensor<64x96xf32>
func.func @vq_simt_cols(%x: tensor<?x96xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects K divisible by 64 for ldlq_2_6_none_1.0:simt, got 96}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.vq<bits = 6, kernel = simt>} : tensor<?x96xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

