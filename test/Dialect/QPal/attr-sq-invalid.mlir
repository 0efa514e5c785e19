// RUN: qpal-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{#qpal.sq: SQ index bits must be in [2, 8], got 9}}
func.func private @too_many_bits() attributes {q = #qpal.sq<bits = 9>}

// -----

// expected-error @+1 {{#qpal.sq expects the parameter 'bits'}}
func.func private @missing_bits() attributes {q = #qpal.sq<>}

// -----

// expected-error @+1 {{unknown parameter 'kv' for #qpal.sq, expected one of 'bits', 'scale', 'kernel', 'rounding'}}
func.func private @wrong_key() attributes {q = #qpal.sq<kv = 4>}

// -----

// expected-error @+1 {{expected 'none' or 'hess' for 'rounding' of #qpal.sq, got 'gptq'}}
func.func private @bad_rounding() attributes {q = #qpal.sq<bits = 4, rounding = gptq>}
