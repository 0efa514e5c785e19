

func.func private @f()
func.func @not_a_weight(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op '@f' does not reference a 'qpal.weight'}}
  %0 = qpal.linear %x, @f : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

