
// CHECK-LABEL: func.func private @sq_4
// CHECK-SAME: q = #qpal.sq<bits = 4>
func.func private @sq_4() attributes {q = #qpal.sq<bits = 4>}

// CHECK-LABEL: func.func private @sq_simt
// CHECK-SAME: q = #qpal.sq<bits = 8, kernel = simt>
func.func private @sq_simt() attributes {q = #qpal.sq<bits = 8, kernel = simt>}

// CHECK-LABEL: func.func private @sq_2
// CHECK-SAME: q = #qpal.sq<bits = 2, scale = 1.5>
func.func private @sq_2() attributes {q = #qpal.sq<bits = 2, scale = 1.5>}

// LDLQ rounding against a calibration Hessian; `none` is the default and
// is not printed.
// CHECK-LABEL: func.func private @sq_hess
// CHECK-SAME: q = #qpal.sq<bits = 4, kernel = simt, rounding = hess>
func.func private @sq_hess() attributes {q = #qpal.sq<bits = 4, rounding = hess, kernel = simt>}

// CHECK-LABEL: func.func private @sq_none
// CHECK-SAME: q = #qpal.sq<bits = 3>
func.func private @sq_none() attributes {q = #qpal.sq<bits = 3, rounding = none>}
