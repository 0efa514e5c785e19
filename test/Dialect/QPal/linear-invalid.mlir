// RUN: qpal-opt %s -split-input-file -verify-diagnostics

// A weight is a vector or a matrix.
// expected-error @+1 {{'qpal.weight' op expects a rank-1 or rank-2 weight, got 'tensor<2x2x2xf32>'}}
qpal.weight @w : tensor<2x2x2xf32>

// -----

// expected-error @+1 {{'qpal.weight' op expects a floating-point weight, got 'tensor<4x4xi8>'}}
qpal.weight @w : tensor<4x4xi8>

// -----

// expected-error @+1 {{'qpal.weight' op expects a non-empty weight, got 'tensor<0x4xf32>'}}
qpal.weight @w : tensor<0x4xf32>

// -----

// A weight's value (set by qpal-materialize-weights) has the weight's shape.
// expected-error @+1 {{'qpal.weight' op expects a value of shape 4, 4 in f32, f16 or bf16, got 'tensor<4x2xf32>'}}
qpal.weight @w : tensor<4x4xf32> {value = dense<1.0> : tensor<4x2xf32>}

// -----

// The kernels read weight values in f32, f16 or bf16 only.
// expected-error @+1 {{'qpal.weight' op expects a value of shape 4, 4 in f32, f16 or bf16, got 'tensor<4x4xf64>'}}
qpal.weight @w : tensor<4x4xf32> {value = dense<1.0> : tensor<4x4xf64>}

// -----

// A ggml block storage: only the formats a compiled model decodes in place.
// expected-error @+1 {{'qpal.weight' op expects a storage of q4_0, q4_1, q5_0, q5_1 or q8_0, got 'q4_K'}}
qpal.weight @w : tensor<4x256xf32> {storage = "q4_K", value = dense<1> : tensor<4x144xi8>}

// -----

// expected-error @+1 {{'qpal.weight' op expects a rank-2 weight whose rows are whole q8_0 blocks of 32 elements, got 'tensor<4x48xf32>'}}
qpal.weight @w : tensor<4x48xf32> {storage = "q8_0", value = dense<1> : tensor<4x51xi8>}

// -----

// expected-error @+1 {{'qpal.weight' op expects a value with its storage 'q4_1'}}
qpal.weight @w : tensor<4x64xf32> {storage = "q4_1"}

// -----

// Two q4_1 blocks of 20 bytes per row.
// expected-error @+1 {{'qpal.weight' op expects a value of 4x40 i8 (its rows' q4_1 blocks), got 'tensor<4x64xi8>'}}
qpal.weight @w : tensor<4x64xf32> {storage = "q4_1", value = dense<1> : tensor<4x64xi8>}

// -----

// expected-error @+1 {{'qpal.weight' op expects 160 bytes in the value's resource blob, got 16}}
qpal.weight @w : tensor<4x64xf32> {storage = "q4_1", value = dense_resource<short> : tensor<4x40xi8>}
{-#
  dialect_resources: {
    builtin: {
      short: "0x010000000000803F0000803F0000803F0000803F"
    }
  }
#-}

// -----

// A resource value whose blob is not in the file (e.g. printed with
// --mlir-elide-resource-strings-if-larger) has no bytes to lower.
// expected-error @+1 {{'qpal.weight' op expects the value's resource blob 'absent' to be present}}
qpal.weight @w : tensor<4x4xf32> {value = dense_resource<absent> : tensor<4x4xf32>}

// -----

// The blob holds four f32s (16 bytes) where four f16s (8 bytes) are declared.
// expected-error @+1 {{'qpal.weight' op expects 8 bytes in the value's resource blob, got 16}}
qpal.weight @w : tensor<4xf32> {value = dense_resource<short> : tensor<4xf16>}
{-#
  dialect_resources: {
    builtin: {
      short: "0x040000000000803F0000803F0000803F0000803F"
    }
  }
#-}

// -----

func.func private @f()
func.func @not_a_weight(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op '@f' does not reference a 'qpal.weight'}}
  %0 = qpal.linear %x, @f : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// expected-note @+1 {{weight declared here}}
qpal.weight @gain : tensor<64xf32>
func.func @vector_weight(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a rank-2 weight, '@gain' is 'tensor<64xf32>'}}
  %0 = qpal.linear %x, @gain : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @wrong_k(%x: tensor<?x96xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects an input (the weight's K) of 64 features, got 96}}
  %0 = qpal.linear %x, @w : tensor<?x96xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @wrong_m(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a result (the weight's M) of 128 features, got 64}}
  %0 = qpal.linear %x, @w : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @rank_mismatch(%x: tensor<2x?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects input and result of the same rank, got 3 and 2}}
  %0 = qpal.linear %x, @w : tensor<2x?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @token_mismatch(%x: tensor<4x64xf32>) -> tensor<5x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects input and result to have the same token dimensions, got 'tensor<4x64xf32>' and 'tensor<5x128xf32>'}}
  %0 = qpal.linear %x, @w : tensor<4x64xf32> -> tensor<5x128xf32>
  return %0 : tensor<5x128xf32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @scalar(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'qpal.linear' op expects ranked activations with a feature dimension, got a rank-0 tensor}}
  %0 = qpal.linear %x, @w : tensor<f32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @negative_sensitivity(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a sensitivity in [0, 1e30], got -5.000000e-01}}
  %0 = qpal.linear %x, @w {sensitivity = -0.5 : f64} : tensor<?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @nan_sensitivity(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a sensitivity in [0, 1e30], got nan}}
  %0 = qpal.linear %x, @w {sensitivity = 0x7FF8000000000000 : f64} : tensor<?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

qpal.weight @w : tensor<128x64xf32>
func.func @negative_block(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'qpal.linear' op expects a non-negative block index, got -1}}
  %0 = qpal.linear %x, @w {block = -1} : tensor<?x64xf32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

// TCQ packs 32 x 32 supertiles: M = 100 does not tile.
qpal.weight @w : tensor<100x64xf32>
func.func @tcq_rows(%x: tensor<?x64xf32>) -> tensor<?x100xf32> {
  // expected-error @+1 {{'qpal.linear' op expects M divisible by 32 for tcq_6_none_0.9, got 100}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.tcq<kv = 6>} : tensor<?x64xf32> -> tensor<?x100xf32>
  return %0 : tensor<?x100xf32>
}

// -----

qpal.weight @w : tensor<64x80xf32>
func.func @sq_cols(%x: tensor<?x80xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects K divisible by 32 for ldlq_1_4_none_1.0, got 80}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.sq<bits = 4>} : tensor<?x80xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// Each half of a column split is its own matrix of 32-column supertiles.
qpal.weight @w : tensor<64x96xf32>
func.func @split_cols(%x: tensor<?x96xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects K divisible by 64 for tcomb_6_7_0.5_none_0.9, got 96}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>} : tensor<?x96xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// A SIMT thread decodes 32 two-dimensional codes: K must cover 64 columns.
qpal.weight @w : tensor<64x96xf32>
func.func @vq_simt_cols(%x: tensor<?x96xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op expects K divisible by 64 for ldlq_2_6_none_1.0:simt, got 96}}
  %0 = qpal.linear %x, @w {quantizer = #qpal.vq<bits = 6, kernel = simt>} : tensor<?x96xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

qpal.weight @w : tensor<64x64xf32>
func.func @not_a_quantizer(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.linear' op attribute 'quantizer' failed to satisfy constraint: QuantizerAttrInterface instance}}
  %0 = qpal.linear %x, @w {quantizer = 3 : i32} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
