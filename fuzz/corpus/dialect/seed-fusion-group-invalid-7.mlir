

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @yield_out_of_order(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op expects 'qpal.yield' to return the 2 member results in member order}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @k : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %b, %a : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

