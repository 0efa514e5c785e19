
// Parameters equal to their defaults are elided: tlut_bits follows the
// reference (9 up to KV = 8, 10 for 9, 11 for 10) and scale is 0.9.

// CHECK-LABEL: func.func private @tcq_6
// CHECK-SAME: q = #qpal.tcq<kv = 6>
func.func private @tcq_6() attributes {q = #qpal.tcq<kv = 6>}

// The default codebook written out is still the default.
// CHECK-LABEL: func.func private @tcq_6_explicit_defaults
// CHECK-SAME: q = #qpal.tcq<kv = 6>
func.func private @tcq_6_explicit_defaults() attributes {q = #qpal.tcq<scale = 0.9, tlut_bits = 9, kv = 6>}

// CHECK-LABEL: func.func private @tcq_9_default_tlut
// CHECK-SAME: q = #qpal.tcq<kv = 9>
func.func private @tcq_9_default_tlut() attributes {q = #qpal.tcq<kv = 9, tlut_bits = 10>}

// A non-default codebook size is kept and printed.
// CHECK-LABEL: func.func private @tcq_9_small_tlut
// CHECK-SAME: q = #qpal.tcq<kv = 9, tlut_bits = 9>
func.func private @tcq_9_small_tlut() attributes {q = #qpal.tcq<kv = 9, tlut_bits = 9>}

// CHECK-LABEL: func.func private @tcq_scale
// CHECK-SAME: q = #qpal.tcq<kv = 2, scale = 0.8715>
func.func private @tcq_scale() attributes {q = #qpal.tcq<kv = 2, scale = 0.8715>}

// CHECK-LABEL: func.func private @tcq_10
// CHECK-SAME: q = #qpal.tcq<kv = 10>
func.func private @tcq_10() attributes {q = #qpal.tcq<kv = 10>}

// BlockLDLQ against a calibration Hessian.
// CHECK-LABEL: func.func private @tcq_hess
// CHECK-SAME: q = #qpal.tcq<kv = 6, rounding = hess>
func.func private @tcq_hess() attributes {q = #qpal.tcq<kv = 6, rounding = hess>}

// A computed trellis code (ComputedTrellis.h); "lut", the default, is elided.
// CHECK-LABEL: func.func private @tcq_6_3inst
// CHECK-SAME: q = #qpal.tcq<kv = 6, scale = 1.2, code = "3inst">
func.func private @tcq_6_3inst() attributes {q = #qpal.tcq<kv = 6, scale = 1.2, code = "3inst">}
// CHECK-LABEL: func.func private @tcq_6_lut
// CHECK-SAME: q = #qpal.tcq<kv = 6>
func.func private @tcq_6_lut() attributes {q = #qpal.tcq<kv = 6, code = "lut">}
