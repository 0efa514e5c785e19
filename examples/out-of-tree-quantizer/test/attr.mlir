// RUN: qpal-opt --load-dialect-plugin=%usq_plugin %s | qpal-opt --load-dialect-plugin=%usq_plugin | FileCheck %s

// #usq.uniform round-trips wherever qpal takes a quantizer: in a packed
// weight type, a palette, a dequant-matmul. Defaults are elided.
// CHECK: qpal.palette = #qpal.palette<[#qpal.sq<bits = 4>, #usq.uniform<bits = 4>, #usq.uniform<bits = 3, scale = 1.1>, #usq.uniform<bits = 6, rounding = hess>]>
module attributes {qpal.palette = #qpal.palette<[#qpal.sq<bits = 4>, #usq.uniform<bits = 4, scale = 1.0>, #usq.uniform<bits = 3, scale = 1.1>, #usq.uniform<bits = 6, rounding = hess>]>} {

// 32 x 32 at 4 bits per weight: 512 code bytes (lib/Quant's geometry,
// through qpal's quantizer interface, checks the buffer sizes).
// CHECK: qpal.packed_weight @o : !qpal.packed<32x32, #usq.uniform<bits = 4>>
// CHECK-SAME: codes(dense<17> : tensor<512xi8>)
qpal.packed_weight @o : !qpal.packed<32x32, #usq.uniform<bits = 4>>
  codes(dense<17> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
  signs(dense<1.0> : tensor<32xf32>)

// CHECK-LABEL: func.func @matmul
// CHECK: qpal.dequant_matmul {{.*}} {quantizer = #usq.uniform<bits = 3>} : memref<?x64xf32>, memref<1536xi8>
func.func @matmul(%x: memref<?x64xf32>, %codes: memref<1536xi8>, %scales: memref<64xf32>, %signs: memref<64xf32>, %codebook: memref<8xf32>, %y: memref<?x64xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #usq.uniform<bits = 3>} : memref<?x64xf32>, memref<1536xi8>, memref<64xf32>, memref<64xf32>, memref<8xf32>, memref<?x64xf32>
  return
}
}
