// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-allocate-bits="budget-bits=1.2"
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits 2>&1 | FileCheck %s --check-prefix=NOBUDGET
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="budget-bits=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="target-tokens-per-second=200" 2>&1 | FileCheck %s --check-prefix=NOMODEL
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="target-tokens-per-second=200 roofline=a100" 2>&1 | FileCheck %s --check-prefix=ROOFLINE
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="target-tokens-per-second=200 roofline=h100 latency-table=%S/Inputs/allocate-bits-latency.json" 2>&1 | FileCheck %s --check-prefix=TWOMODELS
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="target-tokens-per-second=10000 latency-table=%S/Inputs/allocate-bits-latency.json palette=tcq_4_none_0.9,tcq_8_none_0.9" 2>&1 | FileCheck %s --check-prefix=FAST
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="target-tokens-per-second=200 latency-table=%S/Inputs/no-such-table.json" 2>&1 | FileCheck %s --check-prefix=NOTABLE
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="budget-bits=3 palette=tcq_11_none_0.9" 2>&1 | FileCheck %s --check-prefix=PALETTE
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="budget-bits=3 memory-model=exact" 2>&1 | FileCheck %s --check-prefix=MEMMODEL
// RUN: not qpal-opt %s -split-input-file -qpal-allocate-bits="target-tokens-per-second=200 latency-table=%S/Inputs/allocate-bits-latency.json" 2>&1 | FileCheck %s --check-prefix=UNPRICED

// The option errors below are reported on the first (well-formed) module.
// NOBUDGET: error: qpal-allocate-bits: a budget is required: 'budget-bits' (average bits per weight), 'target-tokens-per-second', or both
// NEGATIVE: error: qpal-allocate-bits expects a finite, non-negative 'budget-bits' (0: no budget), got -1
// NOMODEL: error: qpal-allocate-bits: 'target-tokens-per-second' needs a latency model: 'latency-table' or 'roofline'
// ROOFLINE: error: qpal-allocate-bits: unknown 'roofline' 'a100': expected rtx4090 or h100
// TWOMODELS: error: qpal-allocate-bits: 'latency-table' and 'roofline' are two latency models; give one
// FAST: error: latency budget of 1e+04 tokens/s (0.1 ms/token) is above the palette's maximum of
// NOTABLE: error: qpal-allocate-bits: cannot read '{{.*}}no-such-table.json'
// PALETTE: error: qpal-allocate-bits: palette: quantizer 'tcq_11_none_0.9': KV must be in [2, 10], got 11
// MEMMODEL: error: qpal-allocate-bits: unknown memory model 'exact': expected 'reference'
// The default latency palette (reference-latency-simt) has quantizers the
// table does not price.
// UNPRICED: error: latency table '{{.*}}allocate-bits-latency.json' has no entry for group 'q', quantizer 'tcq_3_none_0.9', kernel TC

// 1.2 bits per weight is below what the cheapest quantizer of the default
// palette (tcq_3, 1.5 bits) needs with codebooks, scales and signs.
// expected-error @+1 {{memory budget of 1.2 bits/weight is below the palette's minimum of 1.763 bits/weight (full memory model: codes, codebooks, scales and sign vectors)}}
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  func.func @too_few_bits(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o0 = qpal.linear %x, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}

// -----

// Every allocated layer needs its sensitivity.
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  func.func @missing_sensitivity(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    // expected-error @+1 {{'qpal.linear' op expects 'block', 'role' and 'sensitivity' for allocation, @k0 lacks 'sensitivity'}}
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o0 = qpal.linear %x, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}

// -----

// A linear without any placement cannot be allocated.
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  func.func @bare_linear(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    // expected-error @+1 {{'qpal.linear' op expects 'block', 'role' and 'sensitivity' for allocation, @o0 lacks 'block', 'role', 'sensitivity'}}
    %o0 = qpal.linear %x, @o0 : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}

// -----

// Block 1 has no down projection.
// expected-error @+1 {{expects blocks 0..1 to each have all 7 roles (q, k, v, o, gate, up, down), block 1 has no 'down'}}
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  qpal.weight @q1 : tensor<256x256xf32>
  qpal.weight @k1 : tensor<64x256xf32>
  qpal.weight @v1 : tensor<64x256xf32>
  qpal.weight @o1 : tensor<256x256xf32>
  qpal.weight @gate1 : tensor<512x256xf32>
  qpal.weight @up1 : tensor<512x256xf32>
  func.func @missing_role(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o0 = qpal.linear %x, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    %q1 = qpal.linear %x, @q1 {block = 1, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k1 = qpal.linear %x, @k1 {block = 1, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v1 = qpal.linear %x, @v1 {block = 1, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o1 = qpal.linear %x, @o1 {block = 1, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate1 = qpal.linear %x, @gate1 {block = 1, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up1 = qpal.linear %x, @up1 {block = 1, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    return
  }
}

// -----

// Blocks are numbered from 0 without gaps: block 1 is missing.
// expected-error @+1 {{expects blocks 0..2 to each have all 7 roles (q, k, v, o, gate, up, down), block 1 has no 'q'}}
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  qpal.weight @q2 : tensor<256x256xf32>
  qpal.weight @k2 : tensor<64x256xf32>
  qpal.weight @v2 : tensor<64x256xf32>
  qpal.weight @o2 : tensor<256x256xf32>
  qpal.weight @gate2 : tensor<512x256xf32>
  qpal.weight @up2 : tensor<512x256xf32>
  qpal.weight @down2 : tensor<256x512xf32>
  func.func @missing_block(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o0 = qpal.linear %x, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    %q2 = qpal.linear %x, @q2 {block = 2, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k2 = qpal.linear %x, @k2 {block = 2, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v2 = qpal.linear %x, @v2 {block = 2, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o2 = qpal.linear %x, @o2 {block = 2, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate2 = qpal.linear %x, @gate2 {block = 2, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up2 = qpal.linear %x, @up2 {block = 2, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down2 = qpal.linear %s, @down2 {block = 2, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}

// -----

// Every block must have the shapes of block 0.
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  qpal.weight @q1 : tensor<256x256xf32>
  qpal.weight @k1 : tensor<64x256xf32>
  qpal.weight @v1 : tensor<64x256xf32>
  qpal.weight @o1 : tensor<256x256xf32>
  qpal.weight @gate1 : tensor<384x256xf32>
  qpal.weight @up1 : tensor<512x256xf32>
  qpal.weight @down1 : tensor<256x512xf32>
  func.func @inconsistent_shapes(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o0 = qpal.linear %x, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    %q1 = qpal.linear %x, @q1 {block = 1, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k1 = qpal.linear %x, @k1 {block = 1, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v1 = qpal.linear %x, @v1 {block = 1, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o1 = qpal.linear %x, @o1 {block = 1, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    // expected-error @+1 {{'qpal.linear' op expects a 512x256 weight for role 'gate' (the model shape of block 0's q, k and gate), @gate1 is 384x256}}
    %gate1 = qpal.linear %x, @gate1 {block = 1, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x384xf32>
    %up1 = qpal.linear %x, @up1 {block = 1, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down1 = qpal.linear %s, @down1 {block = 1, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}

// -----

// o must read what q produces (the heads' width).
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x128xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  func.func @o_reads_fewer_features(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>, %a: tensor<?x128xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    // expected-error @+1 {{'qpal.linear' op expects a 256x256 weight for role 'o' (the model shape of block 0's q, k and gate), @o0 is 256x128}}
    %o0 = qpal.linear %a, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x128xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}

// -----

// q must have a whole number of KV heads worth of rows.
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<96x256xf32>
  qpal.weight @v0 : tensor<96x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  func.func @not_gqa(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    // expected-error @+1 {{'qpal.linear' op expects the rows of 'q' (256) to be a multiple of the rows of 'k', as in grouped-query attention, got 96}}
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x96xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x96xf32>
    %o0 = qpal.linear %x, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}

// -----

// Two linears claim block 0, role v.
module {
  qpal.weight @q0 : tensor<256x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x256xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  func.func @duplicate_role(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o0 = qpal.linear %x, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    // expected-error @+1 {{'qpal.linear' op repeats layer '0_self_attn.v_proj' of @v0: allocation expects one linear per block and role}}
    %dup = qpal.linear %x, @k0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    return
  }
}

// -----

// Nothing to allocate.
// expected-error @+1 {{qpal-allocate-bits found no 'qpal.linear' to allocate}}
module {
  qpal.weight @w : tensor<64x64xf32>
}
