

// expected-error @+1 {{expected 'tensor_core' or 'simt' for 'kernel' of #qpal.vq, got 'gpu'}}
func.func private @bad_kernel() attributes {q = #qpal.vq<bits = 6, kernel = gpu>}

