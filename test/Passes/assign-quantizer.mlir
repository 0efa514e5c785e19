// RUN: qpal-opt %s -split-input-file -qpal-assign-quantizer="quantizer=tcomb_6_7_0.5_none_0.9" | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-assign-quantizer="quantizer=ldlq_1_4_none_1.0 overwrite=true" | FileCheck %s --check-prefix=OVERWRITE

// Every unquantized layer gets the named quantizer; a layer that already has
// one keeps it unless `overwrite` is set.
qpal.weight @a : tensor<64x128xf32>
qpal.weight @b : tensor<64x128xf32>
// CHECK-LABEL: func.func @uniform
// OVERWRITE-LABEL: func.func @uniform
func.func @uniform(%x: tensor<?x128xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: qpal.linear %{{.*}}, @a {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>}
  // OVERWRITE: qpal.linear %{{.*}}, @a {quantizer = #qpal.sq<bits = 4>}
  %0 = qpal.linear %x, @a : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK: qpal.linear %{{.*}}, @b {quantizer = #qpal.tcq<kv = 8>}
  // OVERWRITE: qpal.linear %{{.*}}, @b {quantizer = #qpal.sq<bits = 4>}
  %1 = qpal.linear %x, @b {quantizer = #qpal.tcq<kv = 8>} : tensor<?x128xf32> -> tensor<?x64xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Members of a fusion group change together and keep sharing a quantizer.
qpal.weight @g : tensor<64x128xf32>
qpal.weight @u : tensor<64x128xf32>
// CHECK-LABEL: func.func @group
func.func @group(%x: tensor<?x128xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: qpal.fusion_group
  // CHECK-NEXT: qpal.linear %{{.*}}, @g {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>}
  // CHECK-NEXT: qpal.linear %{{.*}}, @u {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @g : tensor<?x128xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @u : tensor<?x128xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}
