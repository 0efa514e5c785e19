

// One sign per column (K = 64).
// expected-error @+1 {{'qpal.packed_weight' op expects signs of type 'tensor<64xf32>', got 'tensor<32xf32>'}}
qpal.packed_weight @w : !qpal.packed<64x64, #qpal.tcq<kv = 6>>
    codes(dense<0> : tensor<1536xi8>) scales(dense<1.0> : tensor<64xf32>)
    signs(dense<1.0> : tensor<32xf32>)

