

// expected-note @+1 {{prior use here}}
func.func @swiglu_types(%g: tensor<?x64xf32>, %u: tensor<?x32xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{use of value '%u' expects different type than prior uses: 'tensor<?x64xf32>' vs 'tensor<?x32xf32>'}}
  %0 = qpal.swiglu %g, %u : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

