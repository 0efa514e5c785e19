

// expected-note @+1 {{weight declared here}}
qpal.weight @gain : tensor<64xf32>
func.func @vector_weight(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a rank-2 weight, '@gain' is 'tensor<64xf32>'}}
  %0 = qpal.linear %x, @gain : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

