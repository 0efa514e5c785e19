

qpal.weight @w : tensor<128x64xf32>
func.func @scalar(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'qpal.linear' op expects ranked activations with a feature dimension, got a rank-0 tensor}}
  %0 = qpal.linear %x, @w : tensor<f32> -> tensor<f32>
  return %0 : tensor<f32>
}

