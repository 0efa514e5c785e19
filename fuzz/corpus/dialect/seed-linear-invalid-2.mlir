

// expected-error @+1 {{'qpal.weight' op expects a non-empty weight, got 'tensor<0x4xf32>'}}
qpal.weight @w : tensor<0x4xf32>

