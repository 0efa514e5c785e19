

//===----------------------------------------------------------------------===//
// qpal.dequant_matmul
//===----------------------------------------------------------------------===//

// tcq_6 at 64 x 64 packs into 1536 bytes.
func.func @codes_size(%x: memref<?x64xf32>, %codes: memref<1024xi8>, %scales: memref<64xf32>, %signs: memref<64xf32>, %codebook: memref<1024xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects codes with 1536 elements, got 'memref<1024xi8>'}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq<kv = 6>} : memref<?x64xf32>, memref<1024xi8>, memref<64xf32>, memref<64xf32>, memref<1024xf32>, memref<?x64xf32>
  return
}

