

qpal.weight @table : tensor<1000x64xf32>
func.func @embedding_hidden(%ids: tensor<?xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'qpal.embedding' op expects a result (the table's hidden size) of 64 features, got 32}}
  %0 = qpal.embedding %ids, @table : tensor<?xi32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

