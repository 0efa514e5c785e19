// RUN: qpal-opt %s -split-input-file -verify-diagnostics

// KV is the number of trellis bits per 2-weight step: 2..10.
// expected-error @+1 {{#qpal.tcq: KV must be in [2, 10], got 11}}
func.func private @kv_too_large() attributes {q = #qpal.tcq<kv = 11>}

// -----

// expected-error @+1 {{#qpal.tcq: KV must be in [2, 10], got 1}}
func.func private @kv_too_small() attributes {q = #qpal.tcq<kv = 1>}

// -----

// Only the 2^9, 2^10 and 2^11-entry codebooks exist.
// expected-error @+1 {{#qpal.tcq: codebook bits must be in [9, 11], got 12}}
func.func private @tlut_too_large() attributes {q = #qpal.tcq<kv = 6, tlut_bits = 12>}

// -----

// expected-error @+1 {{#qpal.tcq: scale must be positive and finite, got 0}}
func.func private @zero_scale() attributes {q = #qpal.tcq<kv = 6, scale = 0.0>}

// -----

// expected-error @+1 {{#qpal.tcq expects the parameter 'kv'}}
func.func private @missing_kv() attributes {q = #qpal.tcq<tlut_bits = 9>}

// -----

// expected-error @+1 {{unknown parameter 'bits' for #qpal.tcq, expected one of 'kv', 'tlut_bits', 'scale', 'rounding'}}
func.func private @unknown_key() attributes {q = #qpal.tcq<bits = 6>}

// -----

// expected-error @+1 {{parameter 'kv' of #qpal.tcq is given twice}}
func.func private @repeated_key() attributes {q = #qpal.tcq<kv = 6, kv = 7>}

// -----

// expected-error @+1 {{parameter 'kv' of #qpal.tcq must be a non-negative 32-bit integer, got -3}}
func.func private @negative() attributes {q = #qpal.tcq<kv = -3>}

// -----

// expected-error @+1 {{expected integer value}}
func.func private @not_a_number() attributes {q = #qpal.tcq<kv = six>}

// -----

// expected-error @+1 {{expected 'none' or 'hess' for 'rounding' of #qpal.tcq, got 'yes'}}
func.func private @tcq_rounding() attributes {q = #qpal.tcq<kv = 6, rounding = yes>}

// -----

// The range in the message is the quantizer's, not the parser's.
// expected-error @+1 {{#qpal.tcq: KV must be in [2, 10], got 99}}
func.func private @kv_far_out_of_range() attributes {q = #qpal.tcq<kv = 99>}

// -----

// expected-error @+1 {{expected "lut", "1mad" or "3inst" for 'code' of #qpal.tcq, got '2mad'}}
func.func private @unknown_code() attributes {q = #qpal.tcq<kv = 6, code = "2mad">}

// -----

// A computed code reads no table, so it takes no table size.
// expected-error @+1 {{#qpal.tcq: the computed code '3inst' reads no codebook: it takes no codebook size}}
func.func private @code_with_tlut() attributes {q = #qpal.tcq<kv = 6, tlut_bits = 10, code = "3inst">}
