// RUN: qpal-opt %s -qpal-outline-layers | FileCheck %s

// The residual stream crosses alone after %x, %a, %b, %c and %d. The parts
// %x -> %a and %a -> %b are outlined and chained through buffers; %b -> %c
// reads the logits argument, which a part does not take, so it stays in
// the step and the stream is read back from its buffer; %c -> %d starts a
// new chain (its own input buffer); what follows reads %d back.
// CHECK-LABEL: func.func @qpal_step_b1(
// CHECK-SAME: %{{.*}}: memref<1xi32>, %[[POS:.*]]: index, %[[CACHE:.*]]: memref<?x?x4xf32> {qpal.kv_cache}, %[[LOGITS:.*]]: memref<1x4xf32>)
// CHECK: %[[X:.*]] = bufferization.to_tensor %[[LOGITS]]
// CHECK-NEXT: %[[IN:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
// CHECK-NEXT: bufferization.materialize_in_destination %[[X]] in restrict writable %[[IN]]
// CHECK-NEXT: %[[A:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
// CHECK-NEXT: call @qpal_step_b1_part1(%[[IN]], %[[POS]], %[[CACHE]], %[[A]])
// CHECK-NEXT: %[[B:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
// CHECK-NEXT: call @qpal_step_b1_part2(%[[A]], %[[POS]], %[[CACHE]], %[[B]])
// CHECK-NEXT: %[[BT:.*]] = bufferization.to_tensor %[[B]] restrict : memref<1x4xf32> to tensor<1x4xf32>
// CHECK-NEXT: %[[U:.*]] = bufferization.to_tensor %[[LOGITS]]
// CHECK-NEXT: %[[C:.*]] = qpal.add %[[BT]], %[[U]]
// CHECK-NEXT: %[[IN2:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
// CHECK-NEXT: bufferization.materialize_in_destination %[[C]] in restrict writable %[[IN2]]
// CHECK-NEXT: %[[D:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
// CHECK-NEXT: call @qpal_step_b1_part3(%[[IN2]], %[[POS]], %[[CACHE]], %[[D]])
// CHECK-NEXT: %[[DT:.*]] = bufferization.to_tensor %[[D]] restrict
// CHECK-NEXT: bufferization.materialize_in_destination %[[DT]] in restrict writable %[[LOGITS]]
// CHECK-NEXT: return
// CHECK: func.func private @qpal_step_b1_part1(%[[I:.*]]: memref<1x4xf32>, %{{.*}}: index, %{{.*}}: memref<?x?x4xf32> {qpal.kv_cache}, %[[O:.*]]: memref<1x4xf32>) attributes {passthrough = ["noinline"], qpal.step_part} {
// CHECK-NEXT: %[[T:.*]] = bufferization.to_tensor %[[I]] restrict : memref<1x4xf32> to tensor<1x4xf32>
// CHECK-NEXT: %[[R:.*]] = qpal.add %[[T]], %[[T]]
// CHECK-NEXT: bufferization.materialize_in_destination %[[R]] in restrict writable %[[O]]
// CHECK-NEXT: return
// CHECK: func.func private @qpal_step_b1_part2(
// CHECK: func.func private @qpal_step_b1_part3(
// CHECK-NOT: func.func
func.func @qpal_step_b1(%tokens: memref<1xi32>, %position: index, %cache: memref<?x?x4xf32> {qpal.kv_cache}, %logits: memref<1x4xf32>) attributes {llvm.emit_c_interface} {
  %x = bufferization.to_tensor %logits restrict : memref<1x4xf32> to tensor<1x4xf32>
  %a = qpal.add %x, %x : tensor<1x4xf32>
  %b = qpal.add %a, %a : tensor<1x4xf32>
  %u = bufferization.to_tensor %logits restrict : memref<1x4xf32> to tensor<1x4xf32>
  %c = qpal.add %b, %u : tensor<1x4xf32>
  %d = qpal.add %c, %c : tensor<1x4xf32>
  bufferization.materialize_in_destination %d in restrict writable %logits : (tensor<1x4xf32>, memref<1x4xf32>) -> ()
  return
}

// A function that is not an entry point is left alone.
// CHECK-LABEL: func.func @helper(
// CHECK-NEXT: qpal.add
// CHECK-NEXT: qpal.add
func.func @helper(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = qpal.add %x, %x : tensor<1x4xf32>
  %b = qpal.add %a, %a : tensor<1x4xf32>
  return %b : tensor<1x4xf32>
}
