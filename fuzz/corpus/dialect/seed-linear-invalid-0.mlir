
// A weight is a vector or a matrix.
// expected-error @+1 {{'qpal.weight' op expects a rank-1 or rank-2 weight, got 'tensor<2x2x2xf32>'}}
qpal.weight @w : tensor<2x2x2xf32>

