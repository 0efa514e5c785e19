
qpal.weight @table : tensor<1000x64xf32>
func.func @embedding_rank(%ids: tensor<?xi32>) -> tensor<?x?x64xf32> {
  // expected-error @+1 {{'qpal.embedding' op expects the result to add one feature dimension to the ids, got 'tensor<?xi32>' -> 'tensor<?x?x64xf32>'}}
  %0 = qpal.embedding %ids, @table : tensor<?xi32> -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

