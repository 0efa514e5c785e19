// RUN: qpal-opt --load-dialect-plugin=%usq_plugin %s -split-input-file -verify-diagnostics

// The family's range check (UsqFamily.cpp's verify) through the attribute.
// expected-error @+1 {{#usq.uniform: usq index bits must be in [2, 8], got 9}}
func.func private @too_many_bits() attributes {q = #usq.uniform<bits = 9>}

// -----

// expected-error @+1 {{unknown #usq.uniform parameter 'kv' (expected scale or rounding)}}
func.func private @wrong_key() attributes {q = #usq.uniform<bits = 4, kv = 6>}

// -----

// expected-error @+1 {{expected 'none' or 'hess', got 'gptq'}}
func.func private @bad_rounding() attributes {q = #usq.uniform<bits = 4, rounding = gptq>}

// -----

// qpal's shape rules hold for the plug-in's quantizer: 4 bits per weight
// of 32 x 32 is 512 bytes, not 256.
// expected-error @+1 {{'qpal.packed_weight' op expects codes of type 'tensor<512xi8>', got 'tensor<256xi8>'}}
qpal.packed_weight @o : !qpal.packed<32x32, #usq.uniform<bits = 4>>
  codes(dense<17> : tensor<256xi8>) scales(dense<0.25> : tensor<32xf32>)
  signs(dense<1.0> : tensor<32xf32>)
