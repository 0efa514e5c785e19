// RUN: qpal-opt %s -split-input-file -qpal-legalize-fusion -verify-diagnostics | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-legalize-fusion="allowed-groups=ug" -verify-diagnostics=only-expected | FileCheck %s --check-prefix=UG

// q/k/v of one block share the attention input rotation: legal, kept.
qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
qpal.weight @v : tensor<32x64xf32>
// CHECK-LABEL: func.func @qkv
// UG-LABEL: func.func @qkv
func.func @qkv(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  // CHECK: qpal.fusion_group
  // CHECK-COUNT-3: qpal.linear
  // A target with only gate/up kernels splits the group.
  // UG-NOT: qpal.fusion_group
  // UG-COUNT-3: qpal.linear
  // UG-NOT: qpal.yield
  %0:3 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
    %a = qpal.linear %x, @q {block = 0, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @k {block = 0, role = #qpal.role<k>} : tensor<?x64xf32> -> tensor<?x32xf32>
    %c = qpal.linear %x, @v {block = 0, role = #qpal.role<v>} : tensor<?x64xf32> -> tensor<?x32xf32>
    qpal.yield %a, %b, %c : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  }
  // CHECK: return %{{.*}}#0, %{{.*}}#1, %{{.*}}#2
  return %0#0, %0#1, %0#2 : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// gate/up: legal under both option sets.
qpal.weight @g : tensor<96x64xf32>
qpal.weight @u : tensor<96x64xf32>
// CHECK-LABEL: func.func @ug
// UG-LABEL: func.func @ug
func.func @ug(%x: tensor<?x64xf32>) -> (tensor<?x96xf32>, tensor<?x96xf32>) {
  // CHECK: qpal.fusion_group
  // UG: qpal.fusion_group
  %0:2 = qpal.fusion_group -> (tensor<?x96xf32>, tensor<?x96xf32>) {
    %a = qpal.linear %x, @g {block = 3, role = #qpal.role<gate>} : tensor<?x64xf32> -> tensor<?x96xf32>
    %b = qpal.linear %x, @u {block = 3, role = #qpal.role<up>} : tensor<?x64xf32> -> tensor<?x96xf32>
    qpal.yield %a, %b : tensor<?x96xf32>, tensor<?x96xf32>
  }
  return %0#0, %0#1 : tensor<?x96xf32>, tensor<?x96xf32>
}

// -----

// q and gate read the same value here, but they are rotated by different
// sign vectors (attention vs MLP domain): split, uses rewired to the members.
qpal.weight @q : tensor<64x64xf32>
qpal.weight @g : tensor<96x64xf32>
// CHECK-LABEL: func.func @mixed_domains
func.func @mixed_domains(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x96xf32>) {
  // CHECK-NOT: qpal.fusion_group
  // CHECK: %[[Q:.*]] = qpal.linear %{{.*}}, @q
  // CHECK: %[[G:.*]] = qpal.linear %{{.*}}, @g
  // CHECK: return %[[Q]], %[[G]]
  // expected-remark @+1 {{split fusion group: members mix the attention (q/k/v) and MLP (gate/up) rotation domains}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x96xf32>) {
    %a = qpal.linear %x, @q {block = 0, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @g {block = 0, role = #qpal.role<gate>} : tensor<?x64xf32> -> tensor<?x96xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x96xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x96xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @o : tensor<64x64xf32>
// CHECK-LABEL: func.func @o_never_fused
func.func @o_never_fused(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK-NOT: qpal.fusion_group
  // expected-remark @+1 {{split fusion group: 'o' has an input of its own and is never fused}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q {block = 0, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @o {block = 0, role = #qpal.role<o>} : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

qpal.weight @q0 : tensor<64x64xf32>
qpal.weight @k1 : tensor<32x64xf32>
// CHECK-LABEL: func.func @two_blocks
func.func @two_blocks(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  // CHECK-NOT: qpal.fusion_group
  // expected-remark @+1 {{split fusion group: member #1 belongs to another block}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x32xf32>) {
    %a = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @k1 {block = 1, role = #qpal.role<k>} : tensor<?x64xf32> -> tensor<?x32xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x32xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x32xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @q2 : tensor<64x64xf32>
// CHECK-LABEL: func.func @repeated_role
func.func @repeated_role(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK-NOT: qpal.fusion_group
  // expected-remark @+1 {{split fusion group: role 'q' appears twice}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q {block = 0, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @q2 {block = 0, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Without roles the pass cannot prove the members share a rotation.
qpal.weight @a : tensor<64x64xf32>
qpal.weight @b : tensor<64x64xf32>
// CHECK-LABEL: func.func @no_roles
func.func @no_roles(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK-NOT: qpal.fusion_group
  // expected-remark @+1 {{split fusion group: member #0 has no role, so its rotation domain is unknown}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @a : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @b : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}
