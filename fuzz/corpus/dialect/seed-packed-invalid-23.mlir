

// A static and a dynamic token dimension are not one.
func.func @token_mismatch(%x: memref<2x32xf32>, %codes: memref<512xi8>, %scales: memref<32xf32>, %signs: memref<32xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects the input and the output to have one token dimension, got 'memref<2x32xf32>' and 'memref<?x32xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<2x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<16xf32>, memref<?x32xf32>
  return
}

