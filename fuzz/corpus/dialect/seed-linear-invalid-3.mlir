

// A weight's value (set by qpal-materialize-weights) has the weight's shape.
// expected-error @+1 {{'qpal.weight' op expects a value of shape 4, 4 in f32 or f16, got 'tensor<4x2xf32>'}}
qpal.weight @w : tensor<4x4xf32> {value = dense<1.0> : tensor<4x2xf32>}

