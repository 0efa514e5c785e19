// RUN: qpal-opt %s -split-input-file -verify-diagnostics

// A split of one rate is plain TCQ.
// expected-error @+1 {{#qpal.tcq_split: a split needs two different rates, got KV1 = KV2 = 6; use tcq_6}}
func.func private @same_rates() attributes {q = #qpal.tcq_split<kv1 = 6, kv2 = 6>}

// -----

// expected-error @+1 {{#qpal.tcq_split: KV must be in [2, 10], got 11}}
func.func private @kv2_too_large() attributes {q = #qpal.tcq_split<kv1 = 10, kv2 = 11>}

// -----

// expected-error @+1 {{#qpal.tcq_split expects the parameter 'kv2'}}
func.func private @missing_kv2() attributes {q = #qpal.tcq_split<kv1 = 6>}

// -----

// expected-error @+1 {{#qpal.tcq_split: codebook bits must be in [9, 11], got 8}}
func.func private @tlut_too_small() attributes {q = #qpal.tcq_split<kv1 = 6, kv2 = 7, tlut_bits = 8>}
