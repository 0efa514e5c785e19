// RUN: qpal-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{#qpal.vq: VQ index bits must be in [2, 12], got 13}}
func.func private @too_many_bits() attributes {q = #qpal.vq<bits = 13>}

// -----

// expected-error @+1 {{#qpal.vq: VQ index bits must be in [2, 12], got 1}}
func.func private @too_few_bits() attributes {q = #qpal.vq<bits = 1>}

// -----

// expected-error @+1 {{expected 'tensor_core' or 'simt' for 'kernel' of #qpal.vq, got 'gpu'}}
func.func private @bad_kernel() attributes {q = #qpal.vq<bits = 6, kernel = gpu>}

// -----

// expected-error @+1 {{#qpal.vq: scale must be positive and finite, got -1}}
func.func private @negative_scale() attributes {q = #qpal.vq<bits = 6, scale = -1.0>}
