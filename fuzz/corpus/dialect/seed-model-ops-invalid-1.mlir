

qpal.weight @table : tensor<1000x64xf32>
func.func @embedding_tokens(%ids: tensor<3xi32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{'qpal.embedding' op expects the result's token dimensions to match the ids, got 'tensor<3xi32>' -> 'tensor<4x64xf32>'}}
  %0 = qpal.embedding %ids, @table : tensor<3xi32> -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

