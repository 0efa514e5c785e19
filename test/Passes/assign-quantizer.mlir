// RUN: qpal-opt %s -split-input-file -qpal-assign-quantizer="quantizer=tcomb_6_7_0.5_none_0.9" | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-assign-quantizer="quantizer=ldlq_1_4_none_1.0 overwrite=true" | FileCheck %s --check-prefix=OVERWRITE
// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-assign-quantizer="quantizer=tcomb_6_7_0.5_none_0.9 overwrite=true fallback=f16" | FileCheck %s --check-prefix=FALLBACK
// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-assign-quantizer="quantizer=tcomb_6_7_0.5_none_0.9 overwrite=true fallback=ldlq_1_4_none_1.0:simt" | FileCheck %s --check-prefix=SIMT

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

// -----

// The layers below carry a quantizer, so that the first RUN line (no
// overwrite) keeps them; the fallback RUN lines overwrite them. tcomb_6_7
// needs K divisible by 64: the 64 x 32 weight cannot take it and gets the
// fallback, with a remark; the 64 x 64 one takes tcomb_6_7 without one.
// CHECK-LABEL: func.func @fallback
// CHECK: qpal.linear %{{.*}}, @narrow {quantizer = #qpal.sq<bits = 4>}
// CHECK: qpal.linear %{{.*}}, @wide {quantizer = #qpal.sq<bits = 4>}
// FALLBACK-LABEL: func.func @fallback
// FALLBACK: qpal.linear %{{.*}}, @narrow {quantizer = #qpal.f16}
// FALLBACK: qpal.linear %{{.*}}, @wide {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>}
// SIMT-LABEL: func.func @fallback
// SIMT: qpal.linear %{{.*}}, @narrow {quantizer = #qpal.sq<bits = 4, kernel = simt>}
// SIMT: qpal.linear %{{.*}}, @wide {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>}
qpal.weight @narrow : tensor<64x32xf32>
qpal.weight @wide : tensor<64x64xf32>
func.func @fallback(%x: tensor<?x32xf32>, %y: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-remark-re @+1 {{takes the fallback {{(f16|ldlq_1_4_none_1.0:simt)}}: tcomb_6_7_0.5_none_0.9 cannot pack its 64x32 weight (expects K divisible by 64 for tcomb_6_7_0.5_none_0.9, got 32)}}
  %0 = qpal.linear %x, @narrow {quantizer = #qpal.sq<bits = 4>} : tensor<?x32xf32> -> tensor<?x64xf32>
  %1 = qpal.linear %y, @wide {quantizer = #qpal.sq<bits = 4>} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// A fusion group falls back as a whole, so that its members keep sharing
// one quantizer: one remark, on the first member that cannot take
// tcomb_6_7, and every member gets the fallback.
// FALLBACK-LABEL: func.func @group_fallback
// FALLBACK: qpal.fusion_group
// FALLBACK-NEXT: qpal.linear %{{.*}}, @g {quantizer = #qpal.f16}
// FALLBACK-NEXT: qpal.linear %{{.*}}, @u {quantizer = #qpal.f16}
// SIMT-LABEL: func.func @group_fallback
// SIMT: qpal.fusion_group
// SIMT-NEXT: qpal.linear %{{.*}}, @g {quantizer = #qpal.sq<bits = 4, kernel = simt>}
// SIMT-NEXT: qpal.linear %{{.*}}, @u {quantizer = #qpal.sq<bits = 4, kernel = simt>}
qpal.weight @g : tensor<64x32xf32>
qpal.weight @u : tensor<64x32xf32>
func.func @group_fallback(%x: tensor<?x32xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    // expected-remark-re @+1 {{takes the fallback {{(f16|ldlq_1_4_none_1.0:simt)}}: tcomb_6_7_0.5_none_0.9 cannot pack its 64x32 weight (expects K divisible by 64 for tcomb_6_7_0.5_none_0.9, got 32)}}
    %a = qpal.linear %x, @g {quantizer = #qpal.sq<bits = 4>} : tensor<?x32xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @u {quantizer = #qpal.sq<bits = 4>} : tensor<?x32xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}
