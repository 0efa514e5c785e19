
qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
func.func @not_a_linear(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op may only contain 'qpal.linear' members, found 'qpal.add'}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{see this operation}}
    %b = qpal.add %x, %x : tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

