

// The kernels read weight values in f32 or f16 only.
// expected-error @+1 {{'qpal.weight' op expects a value of shape 4, 4 in f32 or f16, got 'tensor<4x4xbf16>'}}
qpal.weight @w : tensor<4x4xf32> {value = dense<1.0> : tensor<4x4xbf16>}

