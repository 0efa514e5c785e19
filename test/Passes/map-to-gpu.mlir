// RUN: qpal-opt %s -split-input-file -qpal-map-to-gpu="chip=sm_86" | FileCheck %s

// A 2 x 300 nest: its widest dimension (300) splits into ceil(300 / 128) = 3
// blocks of 128 threads in x, the other dimension takes the grid's y, and
// each thread guards its element. The host's buffer is device memory, the
// copy a nest of its own, and both nests are kernels of one module for the
// chip.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[X:.*]]: memref<2x300xf32>
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C300:.*]] = arith.constant 300 : index
// CHECK: %[[Y:.*]] = gpu.alloc () : memref<2x300xf32>
// CHECK-NOT: memref.alloc
// CHECK: arith.constant 128 : index
// CHECK: %[[ROWS:.*]] = affine.apply #{{.*}}(%[[C2]])
// CHECK: %[[TILES:.*]] = affine.apply #{{.*}}(%[[C300]])
// CHECK: %[[BLOCK:.*]] = affine.apply #{{.*}}(%{{.*}})[%{{.*}}, %[[C1]]]
// CHECK: gpu.launch_func @qpal_model_kernels::@step_k0 blocks in (%[[TILES]], %[[ROWS]], %{{.*}}) threads in (%[[BLOCK]], %{{.*}}, %{{.*}}) args(%{{.*}} : index, %{{.*}} : index, %[[X]] : memref<2x300xf32>, %[[Y]] : memref<2x300xf32>)
// CHECK: gpu.launch_func @qpal_model_kernels::@step_k1 {{.*}} args(%{{.*}} : index, %{{.*}} : index, %[[Y]] : memref<2x300xf32>, %[[X]] : memref<2x300xf32>)
// CHECK-NOT: memref.copy
// CHECK: gpu.dealloc %[[Y]] : memref<2x300xf32>
// CHECK: gpu.module @qpal_model_kernels [#nvvm.target<O = 3, chip = "sm_86", features = "+ptx78">]
// CHECK: gpu.func @step_k0(
// CHECK-DAG: %[[BX:.*]] = gpu.block_id x
// CHECK-DAG: %[[TX:.*]] = gpu.thread_id x
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: scf.if
// CHECK-NEXT: memref.load
// CHECK-NEXT: arith.mulf %{{.*}}, %[[TWO]] : f32
// CHECK-NEXT: memref.store
// CHECK: gpu.func @step_k1(
func.func @step(%x: memref<2x300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c300 = arith.constant 300 : index
  %two = arith.constant 2.0 : f32
  %y = memref.alloc() : memref<2x300xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c2, %c300) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<2x300xf32>
    %w = arith.mulf %v, %two : f32
    memref.store %w, %y[%i, %j] : memref<2x300xf32>
    scf.reduce
  }
  memref.copy %y, %x : memref<2x300xf32> to memref<2x300xf32>
  memref.dealloc %y : memref<2x300xf32>
  return
}

// -----

// A nest narrower than a block is one block of its width (no guard); a dynamic
// dimension (the scores of attention over the cache) stays in the kernel
// as a sequential loop, its bound passed in.
// CHECK-LABEL: func.func @narrow(
// CHECK-SAME: %[[N:.*]]: index
// CHECK: %[[M:.*]] = gpu.alloc (%[[N]]) : memref<4x?xf32>
// CHECK: gpu.launch_func @qpal_model_kernels::@narrow_k0 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}})
// CHECK: gpu.func @narrow_k0(%{{.*}}: index, %[[M:.*]]: memref<4x?xf32>, %[[N:.*]]: index) kernel
// CHECK-NOT: scf.if
// CHECK: scf.for %[[S:.*]] = %{{.*}} to %[[N]] step
// CHECK-NEXT: memref.store %{{.*}}, %[[M]][%{{.*}}, %[[S]]]
func.func @narrow(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.alloc(%n) : memref<4x?xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %s = %c0 to %n step %c1 {
      memref.store %zero, %m[%i, %s] : memref<4x?xf32>
    }
    scf.reduce
  }
  memref.dealloc %m : memref<4x?xf32>
  return
}

// -----

// No static dimension fills a block (4 pairs), so the dynamic one (the
// positions) is split into blocks of 128 threads in x, with a guard, and
// the 4 pairs take the grid's y.
// CHECK-LABEL: func.func @scores(
// CHECK-SAME: %[[N:.*]]: index
// CHECK-DAG: %[[TILES:.*]] = affine.apply #{{.*}}(%[[N]])
// CHECK-DAG: %[[PAIRS:.*]] = affine.apply #{{.*}}(%[[C4:c4]])
// CHECK: gpu.launch_func @qpal_model_kernels::@scores_k0 blocks in (%[[TILES]], %[[PAIRS]], %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}})
// CHECK: gpu.func @scores_k0(
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK: scf.if
// CHECK: memref.store
func.func @scores(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.alloc(%n) : memref<4x?xf32>
  scf.parallel (%p, %s) = (%c0, %c0) to (%c4, %n) step (%c1, %c1) {
    memref.store %zero, %m[%p, %s] : memref<4x?xf32>
    scf.reduce
  }
  memref.dealloc %m : memref<4x?xf32>
  return
}

// -----

// A scalar's copy is a kernel of one thread.
// CHECK-LABEL: func.func @scalar_copy(
// CHECK-NOT: memref.copy
// CHECK: gpu.launch_func @qpal_model_kernels::@scalar_copy_k0 blocks in
// CHECK: gpu.func @scalar_copy_k0(
// CHECK: %[[V:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK: memref.store %[[V]], %{{.*}}[] : memref<f32>
func.func @scalar_copy(%a: memref<f32>, %b: memref<f32>) {
  memref.copy %a, %b : memref<f32> to memref<f32>
  return
}
