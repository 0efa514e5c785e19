

// A blob of the wrong size is refused with both sizes.
// expected-error @+1 {{'qpal.packed_weight' op expects scales of 128 bytes, but the resource 'w.scales' holds 8}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<2> : tensor<512xi8>) scales(dense_resource<w.scales> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

{-#
  dialect_resources: {
    builtin: {
      w.scales: "0x040000000000803E0000803E"
    }
  }
#-}
