
// CHECK-LABEL: func.func private @vq_9
// CHECK-SAME: q = #qpal.vq<bits = 9>
func.func private @vq_9() attributes {q = #qpal.vq<bits = 9>}

// The tensor-core kernel is the default and is elided.
// CHECK-LABEL: func.func private @vq_tensor_core
// CHECK-SAME: q = #qpal.vq<bits = 6>
func.func private @vq_tensor_core() attributes {q = #qpal.vq<bits = 6, kernel = tensor_core, scale = 1.0>}

// CHECK-LABEL: func.func private @vq_simt
// CHECK-SAME: q = #qpal.vq<bits = 6, kernel = simt>
func.func private @vq_simt() attributes {q = #qpal.vq<kernel = simt, bits = 6>}

// CHECK-LABEL: func.func private @vq_range
// CHECK-SAME: a = #qpal.vq<bits = 2>
// CHECK-SAME: b = #qpal.vq<bits = 12, scale = 0.95>
func.func private @vq_range() attributes {a = #qpal.vq<bits = 2>, b = #qpal.vq<bits = 12, scale = 0.95>}

// CHECK-LABEL: func.func private @vq_hess
// CHECK-SAME: q = #qpal.vq<bits = 6, rounding = hess>
func.func private @vq_hess() attributes {q = #qpal.vq<bits = 6, rounding = hess>}
