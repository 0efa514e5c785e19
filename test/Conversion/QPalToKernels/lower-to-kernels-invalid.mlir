// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-lower-to-kernels="target=cpu"
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=tpu" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx chip=sm_70" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=100" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// The target is an enumeration: anything else is refused by name.
// TARGET: for the --target option: Cannot find option named 'tpu'
// CHIP: error: unknown chip 'sm_70', expected sm_80, sm_86, sm_89 or sm_90
// BATCH: error: expects a batch of at most 64 activation rows for a fused dequant-matmul kernel, got 100
// ZERO: error: expects a positive batch, got 0
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu cpu-dealt-segments=0" 2>&1 | FileCheck %s --check-prefix=DEALT
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx gpu-unroll=17" 2>&1 | FileCheck %s --check-prefix=UNROLL
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx gpu-packed-replicas=33" 2>&1 | FileCheck %s --check-prefix=REPLICAS
// Kernel variant choices out of range are named, not clamped.
// DEALT: error: expects cpu-dealt-segments in [1, 3], got 0
// UNROLL: error: expects gpu-unroll in [0, 16], got 17
// REPLICAS: error: expects gpu-packed-replicas in [0, 32], got 33

// A product the default options lower without complaint.
func.func @layer(%x: memref<?x64xf32>, %codes: memref<512xi8>, %scales: memref<16xf32>, %signs: memref<64xf32>, %codebook: memref<16xf32>, %y: memref<?x16xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4, kernel = simt>} : memref<?x64xf32>, memref<512xi8>, memref<16xf32>, memref<64xf32>, memref<16xf32>, memref<?x16xf32>
  return
}

// -----

// 352 = 11 * 32 columns have no Hadamard transform to rotate them: the op
// is refused before anything is generated.
func.func @no_rotation(%x: memref<?x352xf32>, %codes: memref<2816xi8>, %scales: memref<16xf32>, %signs: memref<352xf32>, %codebook: memref<16xf32>, %y: memref<?x16xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op cannot rotate 352 input features: unsupported Hadamard size n = 352}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4, kernel = simt>} : memref<?x352xf32>, memref<2816xi8>, memref<16xf32>, memref<352xf32>, memref<16xf32>, memref<?x16xf32>
  return
}

// -----

// The kernels read plain row-major buffers.
func.func @strided(%x: memref<?x64xf32, strided<[128, 1]>>, %codes: memref<512xi8>, %scales: memref<16xf32>, %signs: memref<64xf32>, %codebook: memref<16xf32>, %y: memref<?x16xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects buffers with the identity layout, got 'memref<?x64xf32, strided<[128, 1]>>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4, kernel = simt>} : memref<?x64xf32, strided<[128, 1]>>, memref<512xi8>, memref<16xf32>, memref<64xf32>, memref<16xf32>, memref<?x16xf32>
  return
}
