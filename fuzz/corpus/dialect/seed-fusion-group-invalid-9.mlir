

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @result_type(%x: tensor<4x64xf32>) -> (tensor<?x64xf32>, tensor<4x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op expects result #0 of type 'tensor<4x64xf32>', got 'tensor<?x64xf32>'}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<4x64xf32>) {
    %a = qpal.linear %x, @q : tensor<4x64xf32> -> tensor<4x64xf32>
    %b = qpal.linear %x, @k : tensor<4x64xf32> -> tensor<4x64xf32>
    qpal.yield %a, %b : tensor<4x64xf32>, tensor<4x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<4x64xf32>
}

