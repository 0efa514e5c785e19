

qpal.weight @w : tensor<64x80xf32>
func.func @sq_cols(%x: tensor<?x80xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects K divisible by 32 for ldlq_1_4_none_1.0, got 80}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.sq<bits = 4>} : tensor<?x80xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

