// RUN: qpal-opt --load-pass-plugin=%usq_plugin %s --pass-pipeline="builtin.module(usq-replace-sq)" | FileCheck %s

// The pass plug-in alone registers the family too (its attributes are the
// pass's output). Every tensor-core SQ quantizer becomes the uniform one of
// the same bits, scale and rounding, in attributes and in types; SQ's SIMT
// layout, which usq does not have, stays.
// CHECK: qpal.palette = #qpal.palette<[#usq.uniform<bits = 4>, #qpal.sq<bits = 3, kernel = simt>, #qpal.tcq<kv = 6>]>
module attributes {qpal.palette = #qpal.palette<[#qpal.sq<bits = 4>, #qpal.sq<bits = 3, kernel = simt>, #qpal.tcq<kv = 6>]>} {
// CHECK: qpal.packed_weight @o : !qpal.packed<32x32, #usq.uniform<bits = 4, scale = 1.2, rounding = hess>>
qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4, scale = 1.2, rounding = hess>>
  codes(dense<17> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
  signs(dense<1.0> : tensor<32xf32>)
// CHECK-LABEL: func.func @matmul
// CHECK: qpal.dequant_matmul {{.*}} {quantizer = #usq.uniform<bits = 3>}
func.func @matmul(%x: memref<?x64xf32>, %codes: memref<1536xi8>, %scales: memref<64xf32>, %signs: memref<64xf32>, %codebook: memref<8xf32>, %y: memref<?x64xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 3>} : memref<?x64xf32>, memref<1536xi8>, memref<64xf32>, memref<64xf32>, memref<8xf32>, memref<?x64xf32>
  return
}
}
