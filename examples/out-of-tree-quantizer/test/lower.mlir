// RUN: qpal-opt --load-dialect-plugin=%usq_plugin %s -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=generic" | FileCheck %s
// RUN: qpal-opt --load-dialect-plugin=%usq_plugin %s -qpal-lower-to-kernels="target=cpu batch=3 cpu-decode=lanes" | FileCheck %s --check-prefix=LANES
// RUN: qpal-opt --load-dialect-plugin=%usq_plugin %s -qpal-lower-to-kernels="target=nvptx batch=1" | FileCheck %s --check-prefix=GPU

// qpal's kernel lowering takes the plug-in's quantizer through its decode
// models (UsqDecode.cpp): one kernel per (quantizer, M, K, batch), named
// after the reference name. 4 bits: the kernels read weight pairs from a
// 256-entry fp16 pair table (UsqFamily.cpp's packedPairEntries), built
// from the 16 levels by the pair-table model.
// CHECK-LABEL: func.func @matmul
// CHECK: call @qpal_rotate_k64_n3_cpu
// CHECK: call @qpal_usq_4_none_1p0_m64_k64_n3_cpu
// CHECK-NOT: qpal.dequant_matmul
// CHECK: func.func @qpal_usq_4_none_1p0_m64_k64_n3_cpu(%{{.*}}: memref<3x64xf32>, %{{.*}}: memref<2048xi8>, %{{.*}}: memref<16xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<3x64xf32>, %{{.*}}: memref<2xi64>)
// CHECK: memref.alloca() : memref<256xi32>
// The 32 lanes of a supertile decode 16 pairs each: 16 gathers.
// CHECK-COUNT-16: vector.gather %{{.*}} : memref<256xi32>, vector<32xi32>
// LANES: func.func @qpal_usq_4_none_1p0_m64_k64_n3_cpu
// GPU: gpu.func @qpal_usq_4_none_1p0_m64_k64_n1_sm_90
func.func @matmul(%x: memref<?x64xf32>, %codes: memref<2048xi8>, %scales: memref<64xf32>, %signs: memref<64xf32>, %codebook: memref<16xf32>, %y: memref<?x64xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #usq.uniform<bits = 4>} : memref<?x64xf32>, memref<2048xi8>, memref<64xf32>, memref<64xf32>, memref<16xf32>, memref<?x64xf32>
  return
}
