

qpal.weight @q : tensor<64x64xf32>
func.func @one_member(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.fusion_group' op expects at least 2 members, got 1}}
  %0 = qpal.fusion_group -> (tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a : tensor<?x64xf32>
  }
  return %0 : tensor<?x64xf32>
}

