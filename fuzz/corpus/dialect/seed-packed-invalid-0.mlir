
//===----------------------------------------------------------------------===//
// !qpal.packed
//===----------------------------------------------------------------------===//

// f16 is not a packed format: such layers keep their dense weight.
// expected-error @+1 {{expects a coded quantizer, got #qpal.f16 (f16 layers keep their dense weight)}}
func.func private @f16() attributes {t = !qpal.packed<64x64, #qpal.f16>}

