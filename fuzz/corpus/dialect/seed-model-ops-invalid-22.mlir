

qpal.weight @head : tensor<1000x64xf32>
func.func @lm_head_hidden(%x: tensor<?x32xf32>) -> tensor<?x1000xf32> {
  // expected-error @+1 {{'qpal.lm_head' op expects an input (the weight's hidden size) of 64 features, got 32}}
  %0 = qpal.lm_head %x, @head : tensor<?x32xf32> -> tensor<?x1000xf32>
  return %0 : tensor<?x1000xf32>
}

