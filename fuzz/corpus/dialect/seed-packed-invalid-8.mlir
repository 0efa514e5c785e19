

// One scale per row (M = 64).
// expected-error @+1 {{'qpal.packed_weight' op expects scales of type 'tensor<64xf32>', got 'tensor<32xf32>'}}
qpal.packed_weight @w : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<0> : tensor<1024xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

