

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
func.func @quantizer_and_none(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op fused members must share their quantizer: member #1 has none, member #0 has #qpal.sq<bits = 4>}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x32xf32>) {
    %a = qpal.linear %x, @q {quantizer = #qpal.sq<bits = 4>} : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{member #1}}
    %b = qpal.linear %x, @k : tensor<?x64xf32> -> tensor<?x32xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x32xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x32xf32>
}

