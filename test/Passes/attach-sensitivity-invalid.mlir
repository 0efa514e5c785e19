// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-attach-sensitivity="file=%S/Inputs/attach-sensitivity.json"
// RUN: not qpal-opt %s -split-input-file -qpal-attach-sensitivity 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not qpal-opt %s -split-input-file -qpal-attach-sensitivity="file=%S/Inputs/no-such-file.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not qpal-opt %s -split-input-file -qpal-attach-sensitivity="file=%S/Inputs/attach-sensitivity-negative.json" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not qpal-opt %s -split-input-file -qpal-attach-sensitivity="file=%S/Inputs/attach-sensitivity-inf.json" 2>&1 | FileCheck %s --check-prefix=INF
// RUN: not qpal-opt %s -split-input-file -qpal-attach-sensitivity="file=%S/Inputs/attach-sensitivity-string.json" 2>&1 | FileCheck %s --check-prefix=STRING
// RUN: not qpal-opt %s -split-input-file -qpal-attach-sensitivity="file=%S/Inputs/attach-sensitivity-nan.json" 2>&1 | FileCheck %s --check-prefix=NAN
// RUN: not qpal-opt %s -split-input-file -qpal-attach-sensitivity="file=%S/Inputs/allocate-bits-latency.json" 2>&1 | FileCheck %s --check-prefix=SHAPE

// NOFILE: error: qpal-attach-sensitivity expects the 'file' option (a sensitivity JSON such as llama31_8b_sensitivity.json)
// MISSING: error: sensitivity file: cannot read '{{.*}}no-such-file.json'
// Every value is checked, used or not.
// NEGATIVE: error: expects a sensitivity in [0, 1e30] for layer '0_mlp.down_proj', got -0.5 (in '{{.*}}attach-sensitivity-negative.json')
// 1e999 overflows to infinity.
// INF: error: expects a sensitivity in [0, 1e30] for layer '0_self_attn.q_proj', got inf (in '{{.*}}attach-sensitivity-inf.json')
// STRING: error: expects a sensitivity in [0, 1e30] for layer '0_self_attn.q_proj', got a non-number (in '{{.*}}attach-sensitivity-string.json')
// JSON has no NaN; Python's `json.dump` writes a bare NaN, which is rejected.
// NAN: error: sensitivity file: '{{.*}}attach-sensitivity-nan.json' is not valid JSON
// SHAPE: error: expects an object 'coefficients' mapping layer keys such as '0_self_attn.q_proj' to numbers in the sensitivity file '{{.*}}allocate-bits-latency.json'

// The file has no entry for block 1's down projection.
qpal.weight @down : tensor<64x128xf32>
func.func @missing_key(%s: tensor<?x128xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a sensitivity for layer '1_mlp.down_proj' (@down), which}}
  %d = qpal.linear %s, @down {block = 1, role = #qpal.role<down>} : tensor<?x128xf32> -> tensor<?x64xf32>
  return %d : tensor<?x64xf32>
}

// -----

// Without a role the layer key is unknown.
qpal.weight @w : tensor<64x64xf32>
func.func @no_role(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects 'block' and 'role' to look up its sensitivity, @w lacks 'role'}}
  %0 = qpal.linear %x, @w {block = 0} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

qpal.weight @w : tensor<64x64xf32>
func.func @no_block(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects 'block' and 'role' to look up its sensitivity, @w lacks 'block'}}
  %0 = qpal.linear %x, @w {role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
