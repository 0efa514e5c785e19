

// A packed weight has rows and columns.
// expected-error @+1 {{expects a non-empty weight, got 0x32}}
func.func private @empty() attributes {t = !qpal.packed<0x32, #qpal.sq<bits = 4>>}

