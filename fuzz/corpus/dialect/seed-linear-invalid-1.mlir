

// expected-error @+1 {{'qpal.weight' op expects a floating-point weight, got 'tensor<4x4xi8>'}}
qpal.weight @w : tensor<4x4xi8>

