

qpal.weight @q : tensor<64x64xf32>
func.func @repeated_weight(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op member #1 repeats the weight @q of member #0}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

