

// Codes are bytes, whatever their count.
// expected-error @+1 {{'qpal.packed_weight' op expects codes of type 'tensor<512xi8>', got 'tensor<512xi32>'}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<512xi32>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

