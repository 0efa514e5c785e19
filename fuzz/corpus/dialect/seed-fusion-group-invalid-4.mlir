

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
func.func @different_quantizers(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op fused members must share their quantizer: member #1 has #qpal.tcq<kv = 7>, member #0 has #qpal.tcq<kv = 6>}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x32xf32>) {
    %a = qpal.linear %x, @q {quantizer = #qpal.tcq<kv = 6>} : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{member #1}}
    %b = qpal.linear %x, @k {quantizer = #qpal.tcq<kv = 7>} : tensor<?x64xf32> -> tensor<?x32xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x32xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x32xf32>
}

