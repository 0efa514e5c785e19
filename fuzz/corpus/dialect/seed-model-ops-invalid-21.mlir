

qpal.weight @head : tensor<1000x64xf32>
func.func @lm_head_vocab(%x: tensor<?x64xf32>) -> tensor<?x999xf32> {
  // expected-error @+1 {{'qpal.lm_head' op expects a result (the weight's vocabulary size) of 1000 features, got 999}}
  %0 = qpal.lm_head %x, @head : tensor<?x64xf32> -> tensor<?x999xf32>
  return %0 : tensor<?x999xf32>
}

