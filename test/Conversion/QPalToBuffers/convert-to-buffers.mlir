// RUN: qpal-opt %s -split-input-file -qpal-convert-to-buffers --mlir-elide-elementsattrs-if-larger=16 | FileCheck %s

// Two packed weights of one quantizer (4-bit SIMT SQ) and one of another
// (tcq_6). Each packed weight becomes three private, constant, 64-byte
// aligned globals named after it; each quantizer gets one codebook global,
// at the top of the module, that its weights share: the 4-bit SQ codebook
// (16 values, fp16-exact, ascending) and the tcq_6 one (512 pairs, 1024
// values; elided here).
// CHECK-LABEL: module {
// CHECK-NEXT: memref.global "private" constant @qpal.codebook.tcq_6_none_0.9 : memref<1024xf32> = dense_resource<__elided__> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @qpal.codebook.ldlq_1_4_none_1.0.simt : memref<16xf32> = dense<[-2.73828125, {{.*}}, 2.72851563]> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @qkv.codes : memref<1024xi8> = dense<1> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @qkv.scales : memref<64xf32> = dense<5.000000e-01> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @qkv.signs : memref<32xf32> = dense<-1.000000e+00> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @o.codes : memref<512xi8> = dense<2> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @o.scales : memref<32xf32> = dense<2.500000e-01> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @o.signs : memref<32xf32> = dense<1.000000e+00> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @gu.codes : memref<1536xi8> = dense<3> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @gu.scales : memref<64xf32> = dense<1.000000e+00> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @gu.signs : memref<64xf32> = dense<-1.000000e+00> {alignment = 64 : i64}
// CHECK-NOT: qpal.packed_weight
// CHECK-NOT: memref.global
qpal.packed_weight @qkv : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<1> : tensor<1024xi8>) scales(dense<0.5> : tensor<64xf32>)
    signs(dense<-1.0> : tensor<32xf32>)
qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<2> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)
qpal.packed_weight @gu : !qpal.packed<64x64, #qpal.tcq<kv = 6>>
    codes(dense<3> : tensor<1536xi8>) scales(dense<1.0> : tensor<64xf32>)
    signs(dense<-1.0> : tensor<64xf32>)

// q/k/v with a dynamic token dimension: the weight's four buffers, the
// input as a read-only buffer, an output of all 64 rows sized by the
// input's token count and zero-filled (the op accumulates), the product
// with its operands in order (input, codes, scales, signs, codebook,
// output), then the output as a tensor and a slice per member, at column
// offsets 0, 32 and 48 with their widths.
// CHECK-LABEL: func.func @layers
// CHECK-SAME: (%[[X:.*]]: tensor<?x32xf32>, %[[S:.*]]: tensor<4x64xf32>)
// CHECK-NEXT: %[[C:.*]] = memref.get_global @qkv.codes : memref<1024xi8>
// CHECK-NEXT: %[[SC:.*]] = memref.get_global @qkv.scales : memref<64xf32>
// CHECK-NEXT: %[[SG:.*]] = memref.get_global @qkv.signs : memref<32xf32>
// CHECK-NEXT: %[[CB:.*]] = memref.get_global @qpal.codebook.ldlq_1_4_none_1.0.simt : memref<16xf32>
// CHECK-NEXT: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<?x32xf32> to memref<?x32xf32>
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[N:.*]] = memref.dim %[[XB]], %[[C0]] : memref<?x32xf32>
// CHECK-NEXT: %[[Y:.*]] = memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<?x64xf32>
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: linalg.fill ins(%[[ZERO]] : f32) outs(%[[Y]] : memref<?x64xf32>)
// CHECK-NEXT: qpal.dequant_matmul %[[XB]], %[[C]], %[[SC]], %[[SG]], %[[CB]], %[[Y]] {quantizer = #qpal.sq<bits = 4, kernel = simt>}
// CHECK-SAME: : memref<?x32xf32>, memref<1024xi8>, memref<64xf32>, memref<32xf32>, memref<16xf32>, memref<?x64xf32>
// CHECK-NEXT: %[[YT:.*]] = bufferization.to_tensor %[[Y]] restrict writable : memref<?x64xf32> to tensor<?x64xf32>
// CHECK-NEXT: %[[Q:.*]] = tensor.extract_slice %[[YT]][0, 0] [%[[N]], 32] [1, 1] : tensor<?x64xf32> to tensor<?x32xf32>
// CHECK-NEXT: %[[K:.*]] = tensor.extract_slice %[[YT]][0, 32] [%[[N]], 16] [1, 1] : tensor<?x64xf32> to tensor<?x16xf32>
// CHECK-NEXT: %[[V:.*]] = tensor.extract_slice %[[YT]][0, 48] [%[[N]], 16] [1, 1] : tensor<?x64xf32> to tensor<?x16xf32>
// A lone layer (o, reading q) of the same quantizer: the same codebook
// global, and no slice, the product is the result.
// CHECK-NEXT: %[[OC:.*]] = memref.get_global @o.codes : memref<512xi8>
// CHECK-NEXT: %[[OSC:.*]] = memref.get_global @o.scales : memref<32xf32>
// CHECK-NEXT: %[[OSG:.*]] = memref.get_global @o.signs : memref<32xf32>
// CHECK-NEXT: %[[OCB:.*]] = memref.get_global @qpal.codebook.ldlq_1_4_none_1.0.simt : memref<16xf32>
// CHECK-NEXT: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only : tensor<?x32xf32> to memref<?x32xf32>
// CHECK: %[[ON:.*]] = memref.dim %[[QB]]
// CHECK-NEXT: %[[OY:.*]] = memref.alloc(%[[ON]]) {alignment = 64 : i64} : memref<?x32xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[OY]] : memref<?x32xf32>)
// CHECK-NEXT: qpal.dequant_matmul %[[QB]], %[[OC]], %[[OSC]], %[[OSG]], %[[OCB]], %[[OY]]
// CHECK-NEXT: %[[O:.*]] = bufferization.to_tensor %[[OY]] restrict writable : memref<?x32xf32> to tensor<?x32xf32>
// Gate/up with a static token dimension: no memref.dim, a statically sized
// output and slices of 4 rows, at column offsets 0 and 32.
// CHECK-NEXT: %[[GC:.*]] = memref.get_global @gu.codes : memref<1536xi8>
// CHECK-NEXT: memref.get_global @gu.scales : memref<64xf32>
// CHECK-NEXT: memref.get_global @gu.signs : memref<64xf32>
// CHECK-NEXT: %[[GCB:.*]] = memref.get_global @qpal.codebook.tcq_6_none_0.9 : memref<1024xf32>
// CHECK-NEXT: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only : tensor<4x64xf32> to memref<4x64xf32>
// CHECK-NEXT: %[[GY:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x64xf32>
// CHECK-NEXT: arith.constant 0.000000e+00 : f32
// CHECK-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[GY]] : memref<4x64xf32>)
// CHECK-NEXT: qpal.dequant_matmul %[[SB]], %[[GC]], %{{.*}}, %{{.*}}, %[[GCB]], %[[GY]] {quantizer = #qpal.tcq<kv = 6>}
// CHECK-SAME: : memref<4x64xf32>, memref<1536xi8>, memref<64xf32>, memref<64xf32>, memref<1024xf32>, memref<4x64xf32>
// CHECK-NEXT: %[[GYT:.*]] = bufferization.to_tensor %[[GY]] restrict writable : memref<4x64xf32> to tensor<4x64xf32>
// CHECK-NEXT: %[[G:.*]] = tensor.extract_slice %[[GYT]][0, 0] [4, 32] [1, 1] : tensor<4x64xf32> to tensor<4x32xf32>
// CHECK-NEXT: %[[U:.*]] = tensor.extract_slice %[[GYT]][0, 32] [4, 32] [1, 1] : tensor<4x64xf32> to tensor<4x32xf32>
// CHECK-NEXT: return %[[Q]], %[[K]], %[[V]], %[[O]], %[[G]], %[[U]]
// CHECK-NOT: qpal.get_weight
// CHECK-NOT: qpal.quantized_linear
func.func @layers(%x: tensor<?x32xf32>, %s: tensor<4x64xf32>) -> (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  %w = qpal.get_weight @qkv : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
  %q, %k, %v = qpal.quantized_linear %x, %w {block = 0, roles = [#qpal.role<q>, #qpal.role<k>, #qpal.role<v>]} : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %wo = qpal.get_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
  %o = qpal.quantized_linear %q, %wo : tensor<?x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>
  %wgu = qpal.get_weight @gu : !qpal.packed<64x64, #qpal.tcq<kv = 6>>
  %g, %u = qpal.quantized_linear %s, %wgu : tensor<4x64xf32>, !qpal.packed<64x64, #qpal.tcq<kv = 6>> -> tensor<4x32xf32>, tensor<4x32xf32>
  return %q, %k, %v, %o, %g, %u : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// One weight read in two functions: its globals exist once and each read
// is a get_global of them; the codebook is created once.
// CHECK-LABEL: module {
// CHECK-COUNT-1: memref.global "private" constant @qpal.codebook.ldlq_1_4_none_1.0 : memref<16xf32>
// CHECK-NEXT: memref.global "private" constant @w.codes : memref<512xi8>
// CHECK-NEXT: memref.global "private" constant @w.scales : memref<32xf32>
// CHECK-NEXT: memref.global "private" constant @w.signs : memref<32xf32>
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @first
// CHECK: memref.get_global @w.codes : memref<512xi8>
// CHECK: memref.get_global @qpal.codebook.ldlq_1_4_none_1.0 : memref<16xf32>
// CHECK: qpal.dequant_matmul {{.*}} {quantizer = #qpal.sq<bits = 4>} : memref<2x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<16xf32>, memref<2x32xf32>
// CHECK-LABEL: func.func @second
// CHECK: memref.get_global @w.codes : memref<512xi8>
// CHECK: memref.get_global @qpal.codebook.ldlq_1_4_none_1.0 : memref<16xf32>
// CHECK: qpal.dequant_matmul
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<512xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)
func.func @first(%x: tensor<2x32xf32>) -> tensor<2x32xf32> {
  %w = qpal.get_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  %y = qpal.quantized_linear %x, %w : tensor<2x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4>> -> tensor<2x32xf32>
  return %y : tensor<2x32xf32>
}
func.func @second(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %w = qpal.get_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  %y = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4>> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// A packed weight nothing reads still becomes its globals, and no codebook
// is made for it (only reads create codebooks).
// CHECK-LABEL: module {
// CHECK-NEXT: memref.global "private" constant @unread.codes : memref<512xi8>
// CHECK-NEXT: memref.global "private" constant @unread.scales : memref<32xf32>
// CHECK-NEXT: memref.global "private" constant @unread.signs : memref<32xf32> = dense<1.000000e+00> {alignment = 64 : i64}
// CHECK-NEXT: {{^}}}
qpal.packed_weight @unread : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<512xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)
