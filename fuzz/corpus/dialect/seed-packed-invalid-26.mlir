

// The shape the scales and signs give must fit the quantizer: TCQ needs 32
// rows per supertile.
func.func @unpackable_shape(%x: memref<?x64xf32>, %codes: memref<768xi8>, %scales: memref<16xf32>, %signs: memref<64xf32>, %codebook: memref<1024xf32>, %y: memref<?x16xf32>) {
  // expected-error @+1 {{'qpal.dequant_matmul' op expects M divisible by 32 for tcq_6_none_0.9, got 16}}
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq<kv = 6>} : memref<?x64xf32>, memref<768xi8>, memref<16xf32>, memref<64xf32>, memref<1024xf32>, memref<?x16xf32>
  return
}

