

qpal.weight @head : tensor<1000x64xf32>
func.func @lm_head_rank(%x: tensor<2x?x64xf32>) -> tensor<?x1000xf32> {
  // expected-error @+1 {{'qpal.lm_head'
  %0 = qpal.lm_head %x, @head : tensor<2x?x64xf32> -> tensor<?x1000xf32>
  return %0 : tensor<?x1000xf32>
}
J