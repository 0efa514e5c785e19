// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=generic" | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=generic" | FileCheck %s --check-prefix=HASH
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-decode=lanes" | FileCheck %s --check-prefix=SCALAR
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=avx512" | FileCheck %s --check-prefix=AVX512
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=avx2" | FileCheck %s --check-prefix=AVX2
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu cpu-isa=sse9" 2>&1 | FileCheck %s --check-prefix=BADISA
// BADISA: unknown cpu ISA 'sse9', expected host, avx512, avx2 or generic
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu cpu-decode=fast" 2>&1 | FileCheck %s --check-prefix=BADDECODE
// BADDECODE: for the --cpu-decode option: Cannot find option named 'fast'

// One kernel per (quantizer, M, K, batch): the two 64 x 64 tcq_6 products
// share one, and one rotation kernel. Each product rotates its rows (signs,
// the Hadamard matrix of order 1, a scratch and the rotated rows, rows
// [0, 3)), then runs the kernel over its 2 row supertiles. The code buffer
// holds 64*64*6/16 = 1536 bytes and the codebook 512 pairs; the last
// argument is the range.
// CHECK: memref.global "private" constant @qpal.hadamard.1 : memref<1xf32> = dense<1.000000e+00> {alignment = 64 : i64}
// CHECK-LABEL: func.func @two_layers
func.func @two_layers(%x: memref<?x64xf32>, %codes: memref<1536xi8>, %scales: memref<64xf32>, %signs: memref<64xf32>, %codebook: memref<1024xf32>, %y: memref<?x64xf32>, %z: memref<?x64xf32>) {
  // CHECK: %[[X:.*]] = memref.cast %{{.*}} : memref<?x64xf32> to memref<3x64xf32>
  // CHECK: %[[Y:.*]] = memref.cast %{{.*}} : memref<?x64xf32> to memref<3x64xf32>
  // CHECK: %[[HK:.*]] = memref.get_global @qpal.hadamard.1 : memref<1xf32>
  // CHECK: %[[T:.*]] = memref.alloc() : memref<3x64xf32>
  // CHECK: %[[XR:.*]] = memref.alloc() : memref<3x64xf32>
  // CHECK: %[[RANGE:.*]] = memref.alloca() : memref<2xi64>
  // CHECK: arith.constant 3 : i64
  // CHECK: call @qpal_rotate_k64_n3_cpu(%[[X]], %{{.*}}, %[[HK]], %[[T]], %[[XR]], %[[RANGE]])
  // CHECK: arith.constant 2 : i64
  // CHECK: call @qpal_tcq_6_none_0p9_m64_k64_n3_cpu(%[[XR]], %{{.*}}, %{{.*}}, %{{.*}}, %[[Y]], %[[RANGE]])
  // CHECK: memref.dealloc %[[T]]
  // CHECK: memref.dealloc %[[XR]]
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq<kv = 6>} : memref<?x64xf32>, memref<1536xi8>, memref<64xf32>, memref<64xf32>, memref<1024xf32>, memref<?x64xf32>
  // CHECK: call @qpal_rotate_k64_n3_cpu
  // CHECK: call @qpal_tcq_6_none_0p9_m64_k64_n3_cpu
  // CHECK-NOT: qpal.dequant_matmul
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %z {quantizer = #qpal.tcq<kv = 6>} : memref<?x64xf32>, memref<1536xi8>, memref<64xf32>, memref<64xf32>, memref<1024xf32>, memref<?x64xf32>
  return
}
// CHECK: func.func @qpal_rotate_k64_n3_cpu(%{{.*}}: memref<3x64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<1xf32>, %{{.*}}: memref<3x64xf32>, %{{.*}}: memref<3x64xf32>, %{{.*}}: memref<2xi64>)
// CHECK: func.func @qpal_tcq_6_none_0p9_m64_k64_n3_cpu(%{{.*}}: memref<3x64xf32>, %{{.*}}: memref<1536xi8>, %{{.*}}: memref<1024xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<3x64xf32>, %{{.*}}: memref<2xi64>)
// Segments of 12 bytes are read as 32-bit words.
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<1536xi8> to memref<384xi32>
// The 512-entry pair table (fp16 x 2) is built on the stack; 3 activation
// rows keep their sums in memory (3 rows x 4 row slots x 32 lanes).
// CHECK: memref.alloca() : memref<512xi32>
// CHECK: memref.alloca() : memref<3x4x32xf32>
// A supertile's 32 segments are one load of 96 words, dealt to the lanes.
// CHECK: vector.load %{{.*}}[%{{.*}}] : memref<384xi32>, vector<96xi32>
// The 32 lanes decode 16 trellis states each: 16 hashes s * (s + 1), in 32
// bits, and one gather per pair from the table.
// HASH: func.func @qpal_tcq_6_none_0p9_m64_k64_n3_cpu
// HASH-COUNT-16: arith.muli %{{.*}}, %{{.*}} : vector<32xi32>
// CHECK: arith.muli %{{.*}}, %{{.*}} : vector<32xi32>
// CHECK-COUNT-16: vector.gather %{{.*}} : memref<512xi32>, vector<32xi32>
// CHECK-NOT: func.func @qpal_tcq
// SCALAR: func.func @qpal_tcq_6_none_0p9_m64_k64_n3_cpu
// SCALAR: memref.alloca() : memref<3x32xf32>
// SCALAR-COUNT-16: arith.muli %{{.*}}, %{{.*}} : i32

// -----

// A fused group's packed weight is one matrix (64 + 32 rows): one kernel.
func.func @fused(%x: memref<?x128xf32>, %codes: memref<6912xi8>, %scales: memref<96xf32>, %signs: memref<128xf32>, %codebook: memref<1024xf32>, %y: memref<?x96xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.vq<bits = 9>} : memref<?x128xf32>, memref<6912xi8>, memref<96xf32>, memref<128xf32>, memref<1024xf32>, memref<?x96xf32>
  return
}
// 96 * 128 weights at 4.5 bits: 6912 bytes; 512 two-dimensional codewords.
// CHECK: func.func @qpal_ldlq_2_9_none_1p0_m96_k128_n3_cpu(%{{.*}}: memref<3x128xf32>, %{{.*}}: memref<6912xi8>, %{{.*}}: memref<1024xf32>, %{{.*}}: memref<96xf32>, %{{.*}}: memref<3x96xf32>, %{{.*}}: memref<2xi64>)

// -----

// A column split decodes its two halves at their own rates: the second
// part's codes start after the first's 64 * 64 * 6 / 16 = 1536 bytes.
func.func @split(%x: memref<?x128xf32>, %codes: memref<3328xi8>, %scales: memref<64xf32>, %signs: memref<128xf32>, %codebook: memref<1024xf32>, %y: memref<?x64xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>} : memref<?x128xf32>, memref<3328xi8>, memref<64xf32>, memref<128xf32>, memref<1024xf32>, memref<?x64xf32>
  return
}
// CHECK: func.func @qpal_tcomb_6_7_0p5_none_0p9_m64_k128_n3_cpu(%{{.*}}: memref<3x128xf32>, %{{.*}}: memref<3328xi8>
// CHECK: arith.constant 1536 : index

// -----

// SQ decodes 8 scalar codes per tile: one 2^8-entry pair table lookup per
// pair of codes (16 per lane), or 32 codebook loads per lane, lane by lane.
func.func @scalar(%x: memref<?x32xf32>, %codes: memref<512xi8>, %scales: memref<32xf32>, %signs: memref<32xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4>} : memref<?x32xf32>, memref<512xi8>, memref<32xf32>, memref<32xf32>, memref<16xf32>, memref<?x32xf32>
  return
}
// CHECK: func.func @qpal_ldlq_1_4_none_1p0_m32_k32_n3_cpu(%{{.*}}: memref<3x32xf32>, %{{.*}}: memref<512xi8>, %{{.*}}: memref<16xf32>
// CHECK-COUNT-16: vector.gather %{{.*}} : memref<256xi32>, vector<32xi32>
// SCALAR: func.func @qpal_ldlq_1_4_none_1p0_m32_k32_n3_cpu
// SCALAR-COUNT-32: memref.load %{{.*}}[%{{.*}}] : memref<16xf32>
// With AVX-512 the 16-entry codebook is one register (gathered once), and
// each code of the 32 lanes is two vpermps: 64 per lane vector.
// AVX512: func.func @qpal_ldlq_1_4_none_1p0_m32_k32_n3_cpu
// AVX512: vector.gather %{{.*}} : memref<16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// AVX512-NOT: memref<256xi32>
// AVX512-COUNT-64: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"
// AVX512-NOT: vector.gather
// AVX2 holds the 16 entries in two 8-lane registers: per code, each 8 of
// the 32 lanes take two vpermps and a select on index bit 3.
// AVX2: func.func @qpal_ldlq_1_4_none_1p0_m32_k32_n3_cpu
// AVX2-COUNT-2: vector.gather %{{.*}} : memref<16xf32>, vector<8xi32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// AVX2-NOT: memref<256xi32>
// AVX2-COUNT-256: llvm.call_intrinsic "llvm.x86.avx2.permps"
// AVX2-NOT: vector.gather

// -----

// The CUDA-core (SIMT) layout of VQ: one row at a time, 32 vectors per lane
// and 2048-column chunk; 128 columns leave one partial chunk of 2 lanes.
func.func @simt(%x: memref<?x128xf32>, %codes: memref<1728xi8>, %scales: memref<36xf32>, %signs: memref<128xf32>, %codebook: memref<128xf32>, %y: memref<?x36xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.vq<bits = 6, kernel = simt>} : memref<?x128xf32>, memref<1728xi8>, memref<36xf32>, memref<128xf32>, memref<128xf32>, memref<?x36xf32>
  return
}
// CHECK: func.func @qpal_ldlq_2_6_none_1p0_simt_m36_k128_n3_cpu(%{{.*}}: memref<3x128xf32>, %{{.*}}: memref<1728xi8>, %{{.*}}: memref<128xf32>
// CHECK-COUNT-64: memref.load %{{.*}}[%{{.*}}] : memref<128xf32>
// AVX512: func.func @qpal_ldlq_2_6_none_1p0_simt_m36_k128_n3_cpu
// AVX2: func.func @qpal_ldlq_2_6_none_1p0_simt_m36_k128_n3_cpu

// -----

// Full SIMT chunks decode their 32 lanes at once: each of a lane's b = 4
// words is one load of 32 consecutive words, and 32 codes of 32 lanes are 32
// gathers from the 16-entry codebook (generic ISA), lane by lane 32 loads.
func.func @simt_chunks(%x: memref<?x2048xf32>, %codes: memref<32768xi8>, %scales: memref<32xf32>, %signs: memref<2048xf32>, %codebook: memref<16xf32>, %y: memref<?x32xf32>) {
  qpal.dequant_matmul %x, %codes, %scales, %signs, %codebook, %y {quantizer = #qpal.sq<bits = 4, kernel = simt>} : memref<?x2048xf32>, memref<32768xi8>, memref<32xf32>, memref<2048xf32>, memref<16xf32>, memref<?x32xf32>
  return
}
// CHECK: func.func @qpal_ldlq_1_4_none_1p0_simt_m32_k2048_n3_cpu
// CHECK-COUNT-4: vector.load %{{.*}}[%{{.*}}] : memref<{{[0-9]+}}xi32>, vector<32xi32>
// CHECK-COUNT-32: vector.gather %{{.*}} : memref<16xf32>, vector<32xi32>, vector<32xi1>, vector<32xf32> into vector<32xf32>
// CHECK: vector.reduction <add>
// SCALAR: func.func @qpal_ldlq_1_4_none_1p0_simt_m32_k2048_n3_cpu
// SCALAR-COUNT-32: memref.load %{{.*}}[%{{.*}}] : memref<16xf32>
// SCALAR-NOT: vector.gather

