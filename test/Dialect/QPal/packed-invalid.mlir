// RUN: qpal-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// !qpal.packed
//===----------------------------------------------------------------------===//

// f16 is not a packed format: such layers keep their dense weight.
// expected-error @+1 {{expects a coded quantizer, got #qpal.f16 (f16 layers keep their dense weight)}}
func.func private @f16() attributes {t = !qpal.packed<64x64, #qpal.f16>}

// -----

// TCQ tiles rows by 32-row supertiles: 16 rows cannot be packed.
// expected-error @+1 {{expects M divisible by 32 for tcq_6_none_0.9, got 16}}
func.func private @tcq_16_rows() attributes {t = !qpal.packed<16x64, #qpal.tcq<kv = 6>>}

// -----

// A packed weight has rows and columns.
// expected-error @+1 {{expects a non-empty weight, got 0x32}}
func.func private @empty() attributes {t = !qpal.packed<0x32, #qpal.sq<bits = 4>>}

// -----

// A packed weight is a matrix.
// expected-error @+1 {{expects an M x K shape, got 3 dimensions}}
func.func private @rank_3() attributes {t = !qpal.packed<64x64x2, #qpal.tcq<kv = 6>>}

// -----

// expected-error @+1 {{expects an M x K shape, got 1 dimension}}
func.func private @rank_1() attributes {t = !qpal.packed<64, #qpal.tcq<kv = 6>>}

// -----

// The second parameter must be a quantizer.
// expected-error @+1 {{expects a quantizer attribute, got 3 : i64}}
func.func private @not_a_quantizer() attributes {t = !qpal.packed<64x64, 3 : i64>}

// -----

//===----------------------------------------------------------------------===//
// qpal.packed_weight
//===----------------------------------------------------------------------===//

// 32 x 32 at 4 bits is 512 code bytes.
// expected-error @+1 {{'qpal.packed_weight' op expects codes of type 'tensor<512xi8>', got 'tensor<256xi8>'}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<256xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

// -----

// Codes are bytes, whatever their count.
// expected-error @+1 {{'qpal.packed_weight' op expects codes of type 'tensor<512xi8>', got 'tensor<512xi32>'}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<512xi32>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

// -----

// One scale per row (M = 64).
// expected-error @+1 {{'qpal.packed_weight' op expects scales of type 'tensor<64xf32>', got 'tensor<32xf32>'}}
qpal.packed_weight @w : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<0> : tensor<1024xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

// -----

// One sign per column (K = 64).
// expected-error @+1 {{'qpal.packed_weight' op expects signs of type 'tensor<64xf32>', got 'tensor<32xf32>'}}
qpal.packed_weight @w : !qpal.packed<64x64, #qpal.tcq<kv = 6>>
    codes(dense<0> : tensor<1536xi8>) scales(dense<1.0> : tensor<64xf32>)
    signs(dense<1.0> : tensor<32xf32>)

// -----

//===----------------------------------------------------------------------===//
// qpal.get_weight
//===----------------------------------------------------------------------===//

func.func @missing() {
  // expected-error @+1 {{'qpal.get_weight' op '@nowhere' does not reference a 'qpal.packed_weight'}}
  %w = qpal.get_weight @nowhere : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  return
}

// -----

// A symbol of another kind is no packed weight either.
func.func private @f()
func.func @not_packed() {
  // expected-error @+1 {{'qpal.get_weight' op '@f' does not reference a 'qpal.packed_weight'}}
  %w = qpal.get_weight @f : !qpal.packed<32x32, #qpal.sq<bits = 4>>
  return
}

// -----

// The result type must be the declared one; the note points at the weight.
// expected-note @+1 {{weight declared here}}
qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4>>
    codes(dense<0> : tensor<512xi8>) scales(dense<1.0> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)
func.func @wrong_type() {
  // expected-error @+1 {{'qpal.get_weight' op expects the type of '@o', '!qpal.packed<32x32, #qpal.sq<bits = 4>>', got '!qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>'}}
  %w = qpal.get_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qpal.quantized_linear
//===----------------------------------------------------------------------===//

func.func @wrong_k(%x: tensor<?x64xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects an input of 32 features (the weight's K), got 'tensor<?x64xf32>'}}
  %y = qpal.quantized_linear %x, %w : tensor<?x64xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x64xf32>
  return
}

// -----

// q/k/v rows 32 + 16 + 8 = 56 leave 8 of the 64 rows without a result.
func.func @rows_do_not_add_up(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects the results' features to add up to the weight's M = 64, got 56}}
  %q, %k, %v = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x8xf32>
  return
}

// -----

func.func @dynamic_features(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects results with a static feature dimension, got 'tensor<?x?xf32>'}}
  %y = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x?xf32>
  return
}

// -----

// Every result has the input's token dimension: a static 4 is not a dynamic
// one.
func.func @token_mismatch(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects every result to have the input's token dimension, got 'tensor<4x32xf32>' for 'tensor<?x32xf32>'}}
  %a, %b = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<4x32xf32>
  return
}

// -----

func.func @roles_per_result(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects one role per result (2), got 3}}
  %g, %u = qpal.quantized_linear %x, %w {roles = [#qpal.role<q>, #qpal.role<k>, #qpal.role<v>]} : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<?x32xf32>
  return
}

// -----

// The custom syntax cannot even spell zero results; the generic one can.
func.func @no_results(%x: tensor<?x32xf32>, %w: !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) {
  // expected-error @+1 {{'qpal.quantized_linear' op expects at least one result}}
  "qpal.quantized_linear"(%x, %w) : (tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>) -> ()
  return
}

// -----

//===----------------------------------------------------------------------===//
// qpal.dequant_matmul
//===----------------------------------------------------------------------===//

// tcq_6 at 64 x 64 packs into 1536 bytes.
func.func @codes_size(%x: memref<?x64xf32>, %codes: memref<1024xi8>, %scales: memref<64xf32>, %signs: memref<64xf32>, %codebook: memref<1024xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects codes with 1536 elements, got 'memref<1024xi8>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq<kv = 6>} : memref<?x64xf32>, memref<1024xi8>, memref<64xf32>, memref<64xf32>, memref<1024xf32>, memref<?x64xf32>
  return
}

// -----

// The 4-bit SQ codebook has 16 values, widened to f32.
func.func @codebook_size(%x: memref<?x32xf32>, %codes: memref<512xi8>, %scales: memref<32xf32>, %signs: memref<32xf32>, %codebook: memref<32xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects a codebook with 16 elements, got 'memref<32xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<?x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<32xf32>, memref<?x32xf32>
  return
}

// -----

// The input has K columns (signs has 128), the output M (scales has 96).
func.func @input_columns(%x: memref<?x96xf32>, %codes: memref<6912xi8>, %scales: memref<96xf32>, %signs: memref<128xf32>, %codebook: memref<1024xf32>, %y: memref<?x96xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects an input with 128 columns, got 'memref<?x96xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.vq<bits = 9>} : memref<?x96xf32>, memref<6912xi8>, memref<96xf32>, memref<128xf32>, memref<1024xf32>, memref<?x96xf32>
  return
}

// -----

func.func @output_columns(%x: memref<?x128xf32>, %codes: memref<6912xi8>, %scales: memref<96xf32>, %signs: memref<128xf32>, %codebook: memref<1024xf32>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects an output with 96 columns, got 'memref<?x128xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.vq<bits = 9>} : memref<?x128xf32>, memref<6912xi8>, memref<96xf32>, memref<128xf32>, memref<1024xf32>, memref<?x128xf32>
  return
}

// -----

// A static and a dynamic token dimension are not one.
func.func @token_mismatch(%x: memref<2x32xf32>, %codes: memref<512xi8>, %scales: memref<32xf32>, %signs: memref<32xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects the input and the output to have one token dimension, got 'memref<2x32xf32>' and 'memref<?x32xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<2x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<16xf32>, memref<?x32xf32>
  return
}

// -----

// The buffers are a packed type's storage, and f16 has none.
func.func @f16(%x: memref<?x32xf32>, %codes: memref<512xi8>, %scales: memref<32xf32>, %signs: memref<32xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects a coded quantizer, got #qpal.f16 (f16 layers keep their dense weight)}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.f16} : memref<?x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<16xf32>, memref<?x32xf32>
  return
}

// -----

// M and K come from the scales and signs, so they must be static.
func.func @dynamic_scales(%x: memref<?x32xf32>, %codes: memref<512xi8>, %scales: memref<?xf32>, %signs: memref<32xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects static scales and signs (M and K), got 'memref<?xf32>' and 'memref<32xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<?x32xf32>, memref<512xi8>, memref<?xf32>, memref<32xf32>, memref<16xf32>, memref<?x32xf32>
  return
}

// -----

// The shape the scales and signs give must fit the quantizer: TCQ needs 32
// rows per supertile.
func.func @unpackable_shape(%x: memref<?x64xf32>, %codes: memref<768xi8>, %scales: memref<16xf32>, %signs: memref<64xf32>, %codebook: memref<1024xf32>, %y: memref<?x16xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects M divisible by 32 for tcq_6_none_0.9, got 16}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq<kv = 6>} : memref<?x64xf32>, memref<768xi8>, memref<16xf32>, memref<64xf32>, memref<1024xf32>, memref<?x16xf32>
  return
}

// -----

// A resource without its blob (IR printed with its resources elided) holds
// no weights to lower: refused where it is declared.
// expected-error @+1 {{'qpal.packed_weight' op expects codes with data, but the resource 'w.codes' has no blob (was the IR printed with its resources elided?)}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense_resource<w.codes> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

// -----

// A blob of the wrong size is refused with both sizes.
// expected-error @+1 {{'qpal.packed_weight' op expects scales of 128 bytes, but the resource 'w.scales' holds 8}}
qpal.packed_weight @w : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<2> : tensor<512xi8>) scales(dense_resource<w.scales> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

{-#
  dialect_resources: {
    builtin: {
      w.scales: "0x040000000000803E0000803E"
    }
  }
#-}
