
// tcomb_6_7_0.5_none_0.9: columns [0, K/2) at KV 6, [K/2, K) at KV 7.
// CHECK-LABEL: func.func private @tcomb_6_7
// CHECK-SAME: q = #qpal.tcq_split<kv1 = 6, kv2 = 7>
func.func private @tcomb_6_7() attributes {q = #qpal.tcq_split<kv1 = 6, kv2 = 7>}

// The default codebook comes from max(kv1, kv2): 10 for (8, 9).
// CHECK-LABEL: func.func private @tcomb_8_9
// CHECK-SAME: q = #qpal.tcq_split<kv1 = 8, kv2 = 9>
func.func private @tcomb_8_9() attributes {q = #qpal.tcq_split<kv1 = 8, kv2 = 9, tlut_bits = 10>}

// CHECK-LABEL: func.func private @tcomb_8_9_small_tlut
// CHECK-SAME: q = #qpal.tcq_split<kv1 = 8, kv2 = 9, tlut_bits = 9>
func.func private @tcomb_8_9_small_tlut() attributes {q = #qpal.tcq_split<kv1 = 8, kv2 = 9, tlut_bits = 9>}

// Rates need not be adjacent, nor ascending.
// CHECK-LABEL: func.func private @tcomb_7_4
// CHECK-SAME: q = #qpal.tcq_split<kv1 = 7, kv2 = 4, scale = 1.0>
func.func private @tcomb_7_4() attributes {q = #qpal.tcq_split<kv1 = 7, kv2 = 4, scale = 1.0>}

// CHECK-LABEL: func.func private @tcq_split_hess
// CHECK-SAME: q = #qpal.tcq_split<kv1 = 6, kv2 = 7, rounding = hess>
func.func private @tcq_split_hess() attributes {q = #qpal.tcq_split<kv1 = 6, kv2 = 7, rounding = hess>}

// CHECK-LABEL: func.func private @tcomb_6_7_1mad
// CHECK-SAME: q = #qpal.tcq_split<kv1 = 6, kv2 = 7, scale = 1.1, code = "1mad">
func.func private @tcomb_6_7_1mad() attributes {q = #qpal.tcq_split<kv1 = 6, kv2 = 7, scale = 1.1, code = "1mad">}
