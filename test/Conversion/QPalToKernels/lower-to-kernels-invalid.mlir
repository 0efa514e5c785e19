// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-lower-to-kernels="target=cpu"
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=tpu" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=nvptx chip=sm_70" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=100" 2>&1 | FileCheck %s --check-prefix=BATCH

// TARGET: error: unknown target 'tpu', expected cpu or nvptx
// CHIP: error: unknown chip 'sm_70', expected sm_80, sm_86, sm_89 or sm_90
// BATCH: error: expects a batch of at most 64 activation rows for a fused dequant-matmul kernel, got 100

// A layer the default options lower without complaint.
qpal.weight @w : tensor<64x64xf32>
func.func @layer(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = qpal.linear %x, @w {quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
