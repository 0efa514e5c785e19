// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx chip=sm_80 batch=1" | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx chip=sm_90 batch=8 sm-count=8" | FileCheck %s --check-prefix=FEW-SMS
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx chip=sm_90 batch=16" | FileCheck %s --check-prefix=B16
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx chip=sm_90 batch=8 sm-count=8 gpu-packed-pairs=false" | FileCheck %s --check-prefix=CODEBOOK
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx chip=sm_90 batch=8 sm-count=8 gpu-blocks-per-sm=8" | FileCheck %s --check-prefix=BLOCKS

// The launch choices are pass options (`qpal kernel` sets them): without
// the packed pair table the f32 codebook (1024 values) sits in shared
// memory; aiming at 8 blocks per SM on 8 SMs splits K in 2 (96 blocks).
// CODEBOOK: gpu.func @qpal_tcq_4_none_0p9_m1536_k576_n8_sm_90
// CODEBOOK-SAME: workgroup(%{{.*}} : memref<8x8x32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1024xf32, #gpu.address_space<workgroup>>)
// BLOCKS: gpu.func @qpal_tcq_4_none_0p9_m1536_k576_n8_sm_90
// BLOCKS-SAME: known_grid_size = array<i32: 96, 1, 1>

// 1536 x 576: 48 row supertiles, 18 supertile columns. 8 warps per block;
// sm_80's 108 SMs want ~216 blocks, so K is split in 2 (the most 18 columns
// allow at 8 warps) and blocks add atomically. With 8 SMs, 48 blocks are
// enough and each block owns its rows.
// CHECK: module attributes {gpu.container_module}
// The activation rows are rotated by one block of 256 threads per row, then
// the kernel's grid runs over the row supertiles and K splits; both launch
// on device scratch buffers.
// CHECK-LABEL: func.func @up_proj
func.func @up_proj(%x: memref<?x576xf32>, %codes: memref<221184xi8>, %scales: memref<1536xf32>, %signs: memref<576xf32>, %codebook: memref<1024xf32>, %y: memref<?x1536xf32>) {
  // CHECK: %[[X:.*]] = memref.cast %{{.*}} : memref<?x576xf32> to memref<1x576xf32>
  // CHECK: %[[Y:.*]] = memref.cast %{{.*}} : memref<?x1536xf32> to memref<1x1536xf32>
  // CHECK: %[[HK:.*]] = memref.get_global @qpal.hadamard.36 : memref<1296xf32>
  // CHECK: %[[T:.*]] = gpu.alloc () : memref<1x576xf32>
  // CHECK: %[[XR:.*]] = gpu.alloc () : memref<1x576xf32>
  // CHECK: gpu.launch_func @qpal_kernels::@qpal_rotate_k576_n1_sm_80 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%[[X]] : memref<1x576xf32>, %{{.*}} : memref<576xf32>, %[[HK]] : memref<1296xf32>, %[[T]] : memref<1x576xf32>, %[[XR]] : memref<1x576xf32>)
  // CHECK: gpu.launch_func @qpal_kernels::@qpal_tcq_4_none_0p9_m1536_k576_n1_sm_80 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%[[XR]] : memref<1x576xf32>, %{{.*}} : memref<221184xi8>, %{{.*}} : memref<1024xf32>, %{{.*}} : memref<1536xf32>, %[[Y]] : memref<1x1536xf32>)
  // CHECK: gpu.dealloc %[[T]]
  // CHECK: gpu.dealloc %[[XR]]
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq<kv = 4>} : memref<?x576xf32>, memref<221184xi8>, memref<1536xf32>, memref<576xf32>, memref<1024xf32>, memref<?x1536xf32>
  return
}
// CHECK: gpu.module @qpal_kernels [#nvvm.target<O = 3, chip = "sm_80", features = "+ptx78">]
// CHECK: gpu.func @qpal_tcq_4_none_0p9_m1536_k576_n1_sm_80(%{{.*}}: memref<1x576xf32>, %{{.*}}: memref<221184xi8>, %{{.*}}: memref<1024xf32>, %{{.*}}: memref<1536xf32>, %{{.*}}: memref<1x1536xf32>)
// The warps' partial sums and the packed pair table (the 512 codebook
// pairs as f16x2) in shared memory, in 16 copies (32 KiB): lane w reads
// copy w mod 16, so a warp's lookups spread over the 32 banks.
// CHECK-SAME: workgroup(%{{.*}} : memref<8x1x32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8192xi32, #gpu.address_space<workgroup>>)
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 96, 1, 1>}
// Segments of 8 bytes are read as 32-bit words.
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<221184xi8> to memref<55296xi32>
// The block builds the pair table from the f32 codebook, then each
// supertile's packed pairs are the A fragments of 4 mma.sync.m16n8k16
// (row-major A, f16 in, f32 accumulators): upstream nvgpu.mma.sync, which
// convert-nvgpu-to-nvvm turns into nvvm.mma.sync.
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-COUNT-16: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<8192xi32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-4: nvgpu.mma.sync(%{{.*}}, %{{.*}}, %{{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: gpu.barrier
// CHECK: memref.atomic_rmw addf

// Batch 16: two n-tiles share each supertile's decode (8 mma.sync), and
// the larger partial sums (16 KiB) leave room for 8 copies of the table.
// B16: gpu.func @qpal_tcq_4_none_0p9_m1536_k576_n16_sm_90
// B16-SAME: workgroup(%{{.*}} : memref<8x16x32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<4096xi32, #gpu.address_space<workgroup>>)
// B16: scf.for
// B16-COUNT-8: nvgpu.mma.sync

// FEW-SMS: gpu.func @qpal_tcq_4_none_0p9_m1536_k576_n8_sm_90
// FEW-SMS-SAME: workgroup(%{{.*}} : memref<8x8x32xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8192xi32, #gpu.address_space<workgroup>>)
// FEW-SMS-SAME: known_grid_size = array<i32: 48, 1, 1>
// FEW-SMS-NOT: memref.atomic_rmw

// -----

// A fused group's packed weight has their rows (576 + 192 + 192): one kernel.
// CHECK: gpu.launch_func @qpal_kernels::@qpal_ldlq_1_4_none_1p0_m960_k576_n1_sm_80
func.func @qkv(%x: memref<?x576xf32>, %codes: memref<276480xi8>, %scales: memref<960xf32>, %signs: memref<576xf32>, %codebook: memref<16xf32>, %y: memref<?x960xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<?x576xf32>, memref<276480xi8>, memref<960xf32>, memref<576xf32>, memref<16xf32>, memref<?x960xf32>
  return
}
// CHECK: gpu.func @qpal_ldlq_1_4_none_1p0_m960_k576_n1_sm_80(%{{.*}}: memref<1x576xf32>, %{{.*}}: memref<276480xi8>
