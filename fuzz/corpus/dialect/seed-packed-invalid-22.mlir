

func.func @output_columns(%x: memref<?x128xf32>, %codes: memref<6912xi8>, %scales: memref<96xf32>, %signs: memref<128xf32>, %codebook: memref<1024xf32>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects an output with 96 columns, got 'memref<?x128xf32>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.vq<bits = 9>} : memref<?x128xf32>, memref<6912xi8>, memref<96xf32>, memref<128xf32>, memref<1024xf32>, memref<?x128xf32>
  return
}

