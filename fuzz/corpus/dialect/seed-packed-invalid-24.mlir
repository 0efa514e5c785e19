

// The buffers are a packed type's storage, and f16 has none.
func.func @f16(%x: memref<?x32xf32>, %codes: memref<512xi8>, %scales: memref<32xf32>, %signs: memref<32xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects a coded quantizer, got #qpal.f16 (f16 layers keep their dense weight)}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.f16} : memref<?x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<16xf32>, memref<?x32xf32>
  return
}

