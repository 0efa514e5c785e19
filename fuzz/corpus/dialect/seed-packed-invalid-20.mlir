

// The 4-bit SQ codebook has 16 values, widened to f32.
func.func @codebook_size(%x: memref<?x32xf32>, %codes: memref<512xi8>, %scales: memref<32xf32>, %signs: memref<32xf32>, %codebook: memref<32xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects a codebook with 16 elements, got 'memref<32xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<?x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<32xf32>, memref<?x32xf32>
  return
}

