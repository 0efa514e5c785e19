

// o reads the attention output, q the normed hidden state: no shared input.
qpal.weight @q : tensor<64x64xf32>
qpal.weight @o : tensor<64x64xf32>
func.func @different_inputs(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op fused members must share their input: member #1 reads a different value than member #0}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{member #1}}
    %b = qpal.linear %y, @o : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

