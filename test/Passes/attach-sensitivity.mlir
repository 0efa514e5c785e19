// RUN: qpal-opt %s -qpal-attach-sensitivity="file=%S/Inputs/attach-sensitivity.json" | FileCheck %s

// Every linear of block 0 gets the coefficient of its layer key; an existing
// sensitivity is replaced, zero is a valid value, and keys the module does
// not use (here block 1's) are ignored.
qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
qpal.weight @v : tensor<32x64xf32>
qpal.weight @o : tensor<64x64xf32>
qpal.weight @gate : tensor<128x64xf32>
qpal.weight @up : tensor<128x64xf32>
qpal.weight @down : tensor<64x128xf32>
qpal.weight @q1 : tensor<64x64xf32>
// CHECK-LABEL: func.func @block0
func.func @block0(%x: tensor<?x64xf32>, %a: tensor<?x64xf32>, %s: tensor<?x128xf32>) {
  // CHECK: @q {block = 0 : i64, role = #qpal.role<q>, sensitivity = 5.000000e-04 : f64}
  %q = qpal.linear %x, @q {block = 0, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
  // CHECK: @k {block = 0 : i64, role = #qpal.role<k>, sensitivity = 1.600000e-03 : f64}
  %k = qpal.linear %x, @k {block = 0, role = #qpal.role<k>, sensitivity = 7.0} : tensor<?x64xf32> -> tensor<?x32xf32>
  // CHECK: @v {block = 0 : i64, role = #qpal.role<v>, sensitivity = 1.330000e-01 : f64}
  %v = qpal.linear %x, @v {block = 0, role = #qpal.role<v>} : tensor<?x64xf32> -> tensor<?x32xf32>
  // CHECK: @o {block = 0 : i64, role = #qpal.role<o>, sensitivity = 1.790000e-02 : f64}
  %o = qpal.linear %a, @o {block = 0, role = #qpal.role<o>} : tensor<?x64xf32> -> tensor<?x64xf32>
  // Members of a fusion group are linears like any other.
  // CHECK: qpal.fusion_group
  // CHECK-NEXT: @gate {block = 0 : i64, role = #qpal.role<gate>, sensitivity = 1.340000e-02 : f64}
  // CHECK-NEXT: @up {block = 0 : i64, role = #qpal.role<up>, sensitivity = 1.960000e-02 : f64}
  %gu:2 = qpal.fusion_group -> (tensor<?x128xf32>, tensor<?x128xf32>) {
    %g = qpal.linear %x, @gate {block = 0, role = #qpal.role<gate>} : tensor<?x64xf32> -> tensor<?x128xf32>
    %u = qpal.linear %x, @up {block = 0, role = #qpal.role<up>} : tensor<?x64xf32> -> tensor<?x128xf32>
    qpal.yield %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
  }
  // CHECK: @down {block = 0 : i64, role = #qpal.role<down>, sensitivity = 2.500000e+00 : f64}
  %d = qpal.linear %s, @down {block = 0, role = #qpal.role<down>} : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK: @q1 {block = 1 : i64, role = #qpal.role<q>, sensitivity = 0.000000e+00 : f64}
  %q1 = qpal.linear %x, @q1 {block = 1, role = #qpal.role<q>} : tensor<?x64xf32> -> tensor<?x64xf32>
  return
}
