

qpal.weight @w : tensor<64x64xf32>
func.func @not_a_quantizer(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op attribute 'quantizer' failed to satisfy constraint: QuantizerAttrInterface instance}}
  %0 = qpal.linear %x, @w {quantizer = 3 : i32} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
