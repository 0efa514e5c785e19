// RUN: qpal-opt %s -split-input-file -qpal-outline-steps | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-outline-steps="batches=4,2,4" | FileCheck %s --check-prefix=SIZES

// A two-layer model (4 heads of 8, 2 key/value heads of 8): the cache rows
// are 16 wide. By default there is one entry point for 1 token and one for
// 8, each a copy of the forward function with the token dimension fixed
// (also inside the fusion group), the tokens read from the buffer, the
// positions position + i, the attention ops numbered in order and the
// logits written into the last argument. @forward is gone; the weights stay.
// CHECK-LABEL: module {
// CHECK-NEXT: qpal.weight @embed
// CHECK-NEXT: qpal.weight @k
// CHECK-NEXT: qpal.weight @v
// CHECK-NEXT: qpal.weight @head
// CHECK-NEXT: func.func @qpal_step_b1(%[[TOK:.*]]: memref<1xi32>, %[[POS:.*]]: index, %{{.*}}: memref<?x?x16xf32> {qpal.kv_cache}, %[[LOGITS:.*]]: memref<1x64xf32>) attributes {llvm.emit_c_interface} {
// CHECK-NEXT: %[[T:.*]] = bufferization.to_tensor %[[TOK]] restrict : memref<1xi32> to tensor<1xi32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<1xi32>
// CHECK-NEXT: %[[P:.*]] = linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel"]} outs(%[[E]] : tensor<1xi32>) {
// CHECK-NEXT: ^bb0(%{{.*}}: i32):
// CHECK-NEXT: %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[S:.*]] = arith.addi %[[POS]], %[[I]] : index
// CHECK-NEXT: %[[C:.*]] = arith.index_cast %[[S]] : index to i32
// CHECK-NEXT: linalg.yield %[[C]] : i32
// CHECK-NEXT: } -> tensor<1xi32>
// CHECK-NEXT: %[[X:.*]] = qpal.embedding %[[T]], @embed : tensor<1xi32> -> tensor<1x32xf32>
// CHECK-NEXT: %[[Q:.*]] = qpal.rope %[[X]], %[[P]] {{.*}} : tensor<1x32xf32>, tensor<1xi32>
// CHECK-NEXT: %[[KV:.*]]:2 = qpal.fusion_group -> (tensor<1x16xf32>, tensor<1x16xf32>) {
// CHECK-NEXT: qpal.linear %[[X]], @k {{.*}} : tensor<1x32xf32> -> tensor<1x16xf32>
// CHECK-NEXT: qpal.linear %[[X]], @v {{.*}} : tensor<1x32xf32> -> tensor<1x16xf32>
// CHECK-NEXT: qpal.yield {{.*}} : tensor<1x16xf32>, tensor<1x16xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[A:.*]] = qpal.attention %[[Q]], %[[KV]]#0, %[[KV]]#1 {head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, qpal.layer = 0 : i64} : tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>
// CHECK-NEXT: %[[B:.*]] = qpal.attention %[[A]], %[[KV]]#0, %[[KV]]#1 {head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, qpal.layer = 1 : i64} : tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>
// CHECK-NEXT: %[[L:.*]] = qpal.lm_head %[[B]], @head : tensor<1x32xf32> -> tensor<1x64xf32>
// CHECK-NEXT: bufferization.materialize_in_destination %[[L]] in restrict writable %[[LOGITS]] : (tensor<1x64xf32>, memref<1x64xf32>) -> ()
// CHECK-NEXT: return
// CHECK-NEXT: }
// CHECK-NEXT: func.func @qpal_step_b8(%{{.*}}: memref<8xi32>, %{{.*}}: index, %{{.*}}: memref<?x?x16xf32> {qpal.kv_cache}, %{{.*}}: memref<8x64xf32>) attributes {llvm.emit_c_interface} {
// CHECK-NOT: tensor<?
// CHECK: qpal.attention {{.*}}qpal.layer = 0 : i64{{.*}} : tensor<8x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>
// CHECK-NOT: tensor<?
// CHECK: qpal.attention {{.*}}qpal.layer = 1 : i64{{.*}} : tensor<8x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>
// CHECK-NOT: tensor<?
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %{{.*}} : (tensor<8x64xf32>, memref<8x64xf32>) -> ()
// CHECK-NOT: func.func
// CHECK-NOT: tensor<?

// The sizes are sorted and each emitted once.
// SIZES-LABEL: module {
// SIZES-NOT: func.func @forward
// SIZES: func.func @qpal_step_b2(%{{.*}}: memref<2xi32>, %{{.*}}: index, %{{.*}}: memref<?x?x16xf32> {qpal.kv_cache}, %{{.*}}: memref<2x64xf32>)
// SIZES-NOT: tensor<?
// SIZES: func.func @qpal_step_b4(%{{.*}}: memref<4xi32>, %{{.*}}: index, %{{.*}}: memref<?x?x16xf32> {qpal.kv_cache}, %{{.*}}: memref<4x64xf32>)
// SIZES-NOT: func.func
// SIZES-NOT: tensor<?
qpal.weight @embed : tensor<64x32xf32>
qpal.weight @k : tensor<16x32xf32>
qpal.weight @v : tensor<16x32xf32>
qpal.weight @head : tensor<64x32xf32>
func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = qpal.embedding %tokens, @embed : tensor<?xi32> -> tensor<?x32xf32>
  %q = qpal.rope %x, %positions {head_dim = 8, theta = 1.0e4 : f64} : tensor<?x32xf32>, tensor<?xi32>
  %kv:2 = qpal.fusion_group -> (tensor<?x16xf32>, tensor<?x16xf32>) {
    %k = qpal.linear %x, @k {block = 0 : i64, role = #qpal.role<k>} : tensor<?x32xf32> -> tensor<?x16xf32>
    %v = qpal.linear %x, @v {block = 0 : i64, role = #qpal.role<v>} : tensor<?x32xf32> -> tensor<?x16xf32>
    qpal.yield %k, %v : tensor<?x16xf32>, tensor<?x16xf32>
  }
  %a = qpal.attention %q, %kv#0, %kv#1 {num_heads = 4, num_kv_heads = 2, head_dim = 8} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %b = qpal.attention %a, %kv#0, %kv#1 {num_heads = 4, num_kv_heads = 2, head_dim = 8} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %l = qpal.lm_head %b, @head : tensor<?x32xf32> -> tensor<?x64xf32>
  return %l : tensor<?x64xf32>
}

// -----

// Only @forward is outlined: other functions stay as they are, dynamic
// shapes and all. The cache width comes from the attention: 1 x 32.
// CHECK-LABEL: module {
// CHECK: func.func @helper(%{{.*}}: tensor<?x32xf32>) -> tensor<?x32xf32>
// CHECK: func.func @qpal_step_b1(%{{.*}}: memref<1xi32>, %{{.*}}: index, %{{.*}}: memref<?x?x32xf32> {qpal.kv_cache}, %{{.*}}: memref<1x64xf32>)
// CHECK: func.func @qpal_step_b8(
// CHECK-NOT: @forward
// SIZES-LABEL: module {
// SIZES: func.func @helper(%{{.*}}: tensor<?x32xf32>) -> tensor<?x32xf32>
// SIZES: func.func @qpal_step_b2(
// SIZES: func.func @qpal_step_b4(
func.func @helper(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  return %x : tensor<?x32xf32>
}
qpal.weight @embed : tensor<64x32xf32>
qpal.weight @head : tensor<64x32xf32>
func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = qpal.embedding %tokens, @embed : tensor<?xi32> -> tensor<?x32xf32>
  %a = qpal.attention %x, %x, %x {num_heads = 1, num_kv_heads = 1, head_dim = 32} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %l = qpal.lm_head %a, @head : tensor<?x32xf32> -> tensor<?x64xf32>
  return %l : tensor<?x64xf32>
}
