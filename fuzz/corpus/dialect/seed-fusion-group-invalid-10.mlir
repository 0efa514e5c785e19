

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @block_arguments(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op expects a body without block arguments}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  ^bb0(%y: tensor<?x64xf32>):
    %a = qpal.linear %y, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %y, @k : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

