

// M and K come from the scales and signs, so they must be static.
func.func @dynamic_scales(%x: memref<?x32xf32>, %codes: memref<512xi8>, %scales: memref<?xf32>, %signs: memref<32xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects static scales and signs (M and K), got 'memref<?xf32>' and 'memref<32xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<?x32xf32>, memref<512xi8>, memref<?xf32>, memref<32xf32>, memref<16xf32>, memref<?x32xf32>
  return
}

