

// The blob holds four f32s (16 bytes) where four f16s (8 bytes) are declared.
// expected-error @+1 {{'qpal.weight' op expects 8 bytes in the value's resource blob, got 16}}
qpal.weight @w : tensor<4xf32> {value = dense_resource<short> : tensor<4xf16>}
{-#
  dialect_resources: {
    builtin: {
      short: "0x040000000000803F0000803F0000803F0000803F"
    }
  }
#-}

