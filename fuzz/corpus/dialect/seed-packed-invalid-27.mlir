

// A resource without its blob (IR printed with its resources elided) holds
// no weights to lower: refused where it is declared.
// expected-error @+1 {{'qpal.packed_weight' op expects codes with data, but the resource 'w.codes' has no blob (was the IR printed with its resources elided?)}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense_resource<w.codes> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

