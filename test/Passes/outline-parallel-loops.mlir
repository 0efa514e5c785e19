// RUN: qpal-opt %s -split-input-file -qpal-outline-parallel-loops | FileCheck %s

// The body moves to a private function of the values it reads from above
// (constants are cloned) and a range of iteration numbers; the loop becomes
// a call over [0, trip count) marked qpal.parallel_loop.
// CHECK-LABEL: func.func private @step_loop(
// CHECK-SAME: %[[X:.*]]: f32, %[[OUT:.*]]: memref<8xf32>, %[[LO:.*]]: index, %[[HI:.*]]: index)
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[LB:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[STEP:.*]] = arith.constant 1 : index
// CHECK: scf.for %[[N:.*]] = %[[LO]] to %[[HI]] step %{{.*}} {
// CHECK-NEXT: %[[SCALED:.*]] = arith.muli %[[N]], %[[STEP]] : index
// CHECK-NEXT: %[[I:.*]] = arith.addi %[[LB]], %[[SCALED]] : index
// CHECK-NEXT: %[[V:.*]] = arith.mulf %[[X]], %[[TWO]] : f32
// CHECK-NEXT: memref.store %[[V]], %[[OUT]][%[[I]]] : memref<8xf32>
// CHECK: return
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[OUT:.*]]: memref<8xf32>, %[[X:.*]]: f32)
// CHECK-NOT: scf.parallel
// CHECK: %[[SPAN:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %[[TRIPS:.*]] = arith.ceildivsi %[[SPAN]], %{{.*}} : index
// CHECK-NEXT: %[[COUNT:.*]] = arith.maxsi %[[TRIPS]], %[[ZERO:.*]] : index
// CHECK-NEXT: call @step_loop(%[[X]], %[[OUT]], %[[ZERO]], %[[COUNT]]) {qpal.parallel_loop} : (f32, memref<8xf32>, index, index) -> ()
func.func @step(%out: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = arith.mulf %x, %two : f32
    memref.store %v, %out[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// Dynamic bounds and a step of 3: the call passes ceil((n - 2) / 3)
// iterations (none when n < 2), the body maps number k to 2 + 3k. Only the
// outermost loop is outlined, once per enclosing scf.for iteration; a
// second loop in the same function gets its own name.
// CHECK-LABEL: func.func private @strided_loop(
// CHECK-SAME: %[[OUT:.*]]: memref<?x4xf32>, %[[LO:.*]]: index, %[[HI:.*]]: index)
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : index
// CHECK: scf.for %[[N:.*]] = %[[LO]] to %[[HI]]
// CHECK-NEXT: %[[SCALED:.*]] = arith.muli %[[N]], %[[THREE]] : index
// CHECK-NEXT: %[[I:.*]] = arith.addi %[[TWO]], %[[SCALED]] : index
// CHECK-NEXT: scf.parallel (%[[J:.*]]) =
// CHECK-NEXT: memref.store %{{.*}}, %[[OUT]][%[[I]], %[[J]]]
// CHECK-LABEL: func.func private @strided_loop_0(
// CHECK-LABEL: func.func @strided(
// CHECK-SAME: %[[OUT:.*]]: memref<?x4xf32>, %[[N:.*]]: index, %{{.*}}: index)
// CHECK: scf.for
// CHECK: %[[SPAN:.*]] = arith.subi %[[N]], %{{.*}} : index
// CHECK-NEXT: %[[TRIPS:.*]] = arith.ceildivsi %[[SPAN]], %{{.*}} : index
// CHECK-NEXT: %[[COUNT:.*]] = arith.maxsi %[[TRIPS]], %[[ZERO:.*]] : index
// CHECK-NEXT: call @strided_loop(%[[OUT]], %[[ZERO]], %[[COUNT]]) {qpal.parallel_loop}
// CHECK: call @strided_loop_0({{.*}}) {qpal.parallel_loop}
// CHECK-NOT: scf.parallel
func.func @strided(%out: memref<?x4xf32>, %n: index, %rounds: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %r = %c0 to %rounds step %c1 {
    scf.parallel (%i) = (%c2) to (%n) step (%c3) {
      scf.parallel (%j) = (%c0) to (%c4) step (%c1) {
        memref.store %zero, %out[%i, %j] : memref<?x4xf32>
        scf.reduce
      }
      scf.reduce
    }
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %zero, %out[%i, %c0] : memref<?x4xf32>
    scf.reduce
  }
  return
}
