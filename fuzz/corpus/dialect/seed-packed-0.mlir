
// The packed type prints as `<M x K, quantizer>` for every coded family;
// quantizer parameters equal to their defaults are elided as in the
// attributes' own round trips.
// CHECK-LABEL: func.func private @types
// CHECK-SAME: sq = !qpal.packed<32x32, #qpal.sq<bits = 4>>
// CHECK-SAME: sq_simt = !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: tcq = !qpal.packed<64x64, #qpal.tcq<kv = 6>>
// CHECK-SAME: tcq_split = !qpal.packed<64x64, #qpal.tcq_split<kv1 = 6, kv2 = 7>>
// CHECK-SAME: vq = !qpal.packed<96x128, #qpal.vq<bits = 9>>
// CHECK-SAME: vq_simt = !qpal.packed<32x64, #qpal.vq<bits = 6, kernel = simt>>
func.func private @types() attributes {
  sq = !qpal.packed<32x32, #qpal.sq<bits = 4>>,
  sq_simt = !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>,
  tcq = !qpal.packed<64x64, #qpal.tcq<kv = 6, tlut_bits = 9, scale = 0.9>>,
  tcq_split = !qpal.packed<64x64, #qpal.tcq_split<kv1 = 6, kv2 = 7>>,
  vq = !qpal.packed<96x128, #qpal.vq<bits = 9, kernel = tensor_core>>,
  vq_simt = !qpal.packed<32x64, #qpal.vq<kernel = simt, bits = 6>>}

// A packed weight holds its three buffers, sized by its type: 32 x 32 at 4
// bits is 512 code bytes, 32 row scales and 32 column signs. `sources` and
// `seed` are kept as written; a non-splat elements attribute round-trips
// value by value.
// CHECK: qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4>>
// CHECK-SAME: codes(dense<17> : tensor<512xi8>)
// CHECK-SAME: scales(dense<2.500000e-01> : tensor<32xf32>)
// CHECK-SAME: signs(dense<[1.000000e+00, -1.000000e+00, 1.000000e+00, 1.000000e+00, -1.000000e+00, {{.*}}, -1.000000e+00]> : tensor<32xf32>)
// CHECK-SAME: {seed = 42 : ui64, sources = ["model.layers.0.self_attn.o_proj.weight"]}
qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<17> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
    signs(dense<[1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1.0]> : tensor<32xf32>)
    {seed = 42 : ui64, sources = ["model.layers.0.self_attn.o_proj.weight"]}

// A fused q/k/v weight: 32 + 16 + 16 = 64 rows of 32 columns, 1024 code
// bytes for the 4-bit SIMT layout. Without `sources` and `seed` the op
// prints no attribute dictionary.
// CHECK: qpal.packed_weight @qkv : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: codes(dense<0> : tensor<1024xi8>) scales(dense<1.000000e+00> : tensor<64xf32>) signs(dense<-1.000000e+00> : tensor<32xf32>){{$}}
qpal.packed_weight @qkv : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<0> : tensor<1024xi8>) scales(dense<1.0> : tensor<64xf32>)
    signs(dense<-1.0> : tensor<32xf32>)

// A 64 x 64 tcq_6 weight: 6 bits per pair of weights, 64 * 64 * 6 / 16 =
// 1536 code bytes.
// CHECK: qpal.packed_weight @tcq : !qpal.packed<64x64, #qpal.tcq<kv = 6>>
// CHECK-SAME: codes(dense<-1> : tensor<1536xi8>)
qpal.packed_weight @tcq : !qpal.packed<64x64, #qpal.tcq<kv = 6>>
    codes(dense<-1> : tensor<1536xi8>) scales(dense<1.0> : tensor<64xf32>)
    signs(dense<1.0> : tensor<64xf32>)

// One quantized linear per fused group: the results split the 64 rows in
// member order (q 32, k 16, v 16), and one role names each result.
// CHECK-LABEL: func.func @fused_qkv
// CHECK-SAME: (%[[X:.*]]: tensor<?x32xf32>)
func.func @fused_qkv(%x: tensor<?x32xf32>) -> (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>) {
  // CHECK: %[[W:.*]] = qpal.get_weight @qkv : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
  %w = qpal.get_weight @qkv : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
  // CHECK: %[[QKV:.*]]:3 = qpal.quantized_linear %[[X]], %[[W]] {block = 0 : i64, roles = [#qpal.role<q>, #qpal.role<k>, #qpal.role<v>]}
  // CHECK-SAME: : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %q, %k, %v = qpal.quantized_linear %x, %w {block = 0, roles = [#qpal.role<q>, #qpal.role<k>, #qpal.role<v>]}
      : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
      -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  // CHECK: return %[[QKV]]#0, %[[QKV]]#1, %[[QKV]]#2
  return %q, %k, %v : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
}

// A lone layer with a static token dimension and neither block nor roles.
// CHECK-LABEL: func.func @lone
func.func @lone(%x: tensor<4x32xf32>) -> tensor<4x32xf32> {
  // CHECK: %[[W:.*]] = qpal.get_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  %w = qpal.get_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  // CHECK: qpal.quantized_linear %{{.*}}, %[[W]] : tensor<4x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4>> -> tensor<4x32xf32>
  %y = qpal.quantized_linear %x, %w : tensor<4x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4>> -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// The buffer-level product, with a dynamic token dimension: tcq_6 at
// 64 x 64 has 1536 code bytes and a 1024-value codebook (512 pairs).
// CHECK-LABEL: func.func @dequant_dynamic
// CHECK-SAME: (%[[X:.*]]: memref<?x64xf32>, %[[C:.*]]: memref<1536xi8>, %[[S:.*]]: memref<64xf32>, %[[G:.*]]: memref<64xf32>, %[[B:.*]]: memref<1024xf32>, %[[Y:.*]]: memref<?x64xf32>)
func.func @dequant_dynamic(%x: memref<?x64xf32>, %codes: memref<1536xi8>, %scales: memref<64xf32>, %signs: memref<64xf32>, %codebook: memref<1024xf32>, %y: memref<?x64xf32>) {
  // CHECK: qpal.dequant_matmul %[[X]], %[[C]], %[[S]], %[[G]], %[[B]], %[[Y]] {quantizer = #qpal.tcq<kv = 6>}
  // CHECK-SAME: : memref<?x64xf32>, memref<1536xi8>, memref<64xf32>, memref<64xf32>, memref<1024xf32>, memref<?x64xf32>
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq<kv = 6>}
      : memref<?x64xf32>, memref<1536xi8>, memref<64xf32>, memref<64xf32>, memref<1024xf32>, memref<?x64xf32>
  return
}

// Static token dimensions; M (96) and K (128) differ, so the input has K
// columns and the output M: vq_9 (9 bits per pair) needs 96 * 128 * 9 / 16
// = 6912 code bytes, and its 512 pairs are 1024 codebook values.
// CHECK-LABEL: func.func @dequant_static
// CHECK-SAME: (%[[X:.*]]: memref<2x128xf32>, %{{.*}}: memref<6912xi8>, %{{.*}}: memref<96xf32>, %{{.*}}: memref<128xf32>, %{{.*}}: memref<1024xf32>, %[[Y:.*]]: memref<2x96xf32>)
func.func @dequant_static(%x: memref<2x128xf32>, %codes: memref<6912xi8>, %scales: memref<96xf32>, %signs: memref<128xf32>, %codebook: memref<1024xf32>, %y: memref<2x96xf32>) {
  // CHECK: qpal.dequant_matmul %[[X]], {{.*}}, %[[Y]] {quantizer = #qpal.vq<bits = 9>} : memref<2x128xf32>, memref<6912xi8>, memref<96xf32>, memref<128xf32>, memref<1024xf32>, memref<2x96xf32>
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.vq<bits = 9>}
      : memref<2x128xf32>, memref<6912xi8>, memref<96xf32>, memref<128xf32>, memref<1024xf32>, memref<2x96xf32>
  return
}
