// RUN: qpal-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{#qpal.palette expects at least one quantizer}}
module attributes {qpal.palette = #qpal.palette<[]>} {}

// -----

// expected-error @+1 {{#qpal.palette lists #qpal.tcq<kv = 6> twice}}
module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, #qpal.sq<bits = 4>, #qpal.tcq<kv = 6, tlut_bits = 9>]>} {}

// -----

// Only quantizers belong in a palette.
// expected-error @+1 {{expected a quantizer attribute in #qpal.palette, got 3 : i32}}
module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, 3 : i32]>} {}

// -----

// expected-error @+1 {{'qpal.palette' must be a #qpal.palette, got #qpal.tcq<kv = 6>}}
module attributes {qpal.palette = #qpal.tcq<kv = 6>} {}

// -----

module {
  // expected-error @+1 {{'qpal.palette' may only be attached to a module}}
  func.func private @f() attributes {qpal.palette = #qpal.palette<[#qpal.f16]>}
}

// -----

// expected-error @+1 {{unknown qpal attribute 'qpal.budget'}}
module attributes {qpal.budget = 3} {}

// -----

// expected-error @+2 {{failed to parse QPal_LinearRoleAttr parameter 'value'}}
// expected-error @+1 {{expected ::qpal::LinearRole to be one of: q, k, v, o, gate, up, down}}
func.func private @bad_role() attributes {r = #qpal.role<out>}
