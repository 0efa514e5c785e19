

//===----------------------------------------------------------------------===//
// qpal.packed_weight
//===----------------------------------------------------------------------===//

// 32 x 32 at 4 bits is 512 code bytes.
// expected-error @+1 {{'qpal.packed_weight' op expects codes of type 'tensor<512xi8>', got 'tensor<256xi8>'}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<256xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

