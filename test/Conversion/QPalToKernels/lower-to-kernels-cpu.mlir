// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=generic" | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=generic" | FileCheck %s --check-prefix=HASH
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-decode=lanes" | FileCheck %s --check-prefix=SCALAR
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=avx512" | FileCheck %s --check-prefix=AVX512
// RUN: qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu batch=3 cpu-isa=avx2" | FileCheck %s --check-prefix=AVX2
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu cpu-isa=sse9" 2>&1 | FileCheck %s --check-prefix=BADISA
// BADISA: unknown cpu ISA 'sse9', expected host, avx512, avx2 or generic
// RUN: not qpal-opt %s -split-input-file -qpal-lower-to-kernels="target=cpu cpu-decode=fast" 2>&1 | FileCheck %s --check-prefix=BADDECODE
// BADDECODE: unknown cpu decode 'fast', expected auto, vector or lanes

// One kernel per (quantizer, M, K, batch): the two 64 x 64 tcq_6 layers
// share one, recorded on each layer. The code buffer holds 64*64*6/16 = 1536
// bytes and the codebook 512 pairs; the last argument is the supertile range.
qpal.weight @a : tensor<64x64xf32>
qpal.weight @b : tensor<64x64xf32>
qpal.weight @c : tensor<64x64xf32>
// CHECK-LABEL: func.func @two_layers
func.func @two_layers(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: qpal.linear %{{.*}}, @a {qpal.kernel = @qpal_tcq_6_none_0p9_m64_k64_n3_cpu
  %0 = qpal.linear %x, @a {quantizer = #qpal.tcq<kv = 6>} : tensor<?x64xf32> -> tensor<?x64xf32>
  // CHECK: qpal.linear %{{.*}}, @b {qpal.kernel = @qpal_tcq_6_none_0p9_m64_k64_n3_cpu
  %1 = qpal.linear %x, @b {quantizer = #qpal.tcq<kv = 6>} : tensor<?x64xf32> -> tensor<?x64xf32>
  // Layers without a quantizer get no kernel.
  // CHECK: qpal.linear %{{.*}}, @c : tensor
  %2 = qpal.linear %x, @c : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0, %1, %2 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}
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

// A fusion group is one kernel over its members' rows (64 + 32).
qpal.weight @q : tensor<64x128xf32>
qpal.weight @k : tensor<32x128xf32>
// CHECK-LABEL: func.func @fused
func.func @fused(%x: tensor<?x128xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  // CHECK: qpal.fusion_group
  // CHECK-SAME: qpal.kernel = @qpal_ldlq_2_9_none_1p0_m96_k128_n3_cpu
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x32xf32>) {
    %a = qpal.linear %x, @q {quantizer = #qpal.vq<bits = 9>} : tensor<?x128xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @k {quantizer = #qpal.vq<bits = 9>} : tensor<?x128xf32> -> tensor<?x32xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x32xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x32xf32>
}
// 96 * 128 weights at 4.5 bits: 6912 bytes; 512 two-dimensional codewords.
// CHECK: func.func @qpal_ldlq_2_9_none_1p0_m96_k128_n3_cpu(%{{.*}}: memref<3x128xf32>, %{{.*}}: memref<6912xi8>, %{{.*}}: memref<1024xf32>, %{{.*}}: memref<96xf32>, %{{.*}}: memref<3x96xf32>, %{{.*}}: memref<2xi64>)

// -----

// A column split decodes its two halves at their own rates: the second
// part's codes start after the first's 64 * 64 * 6 / 16 = 1536 bytes.
qpal.weight @w : tensor<64x128xf32>
func.func @split(%x: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %0 = qpal.linear %x, @w {quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>} : tensor<?x128xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
// CHECK: func.func @qpal_tcomb_6_7_0p5_none_0p9_m64_k128_n3_cpu(%{{.*}}: memref<3x128xf32>, %{{.*}}: memref<3328xi8>
// CHECK: arith.constant 1536 : index

// -----

// SQ decodes 8 scalar codes per tile: one 2^8-entry pair table lookup per
// pair of codes (16 per lane), or 32 codebook loads per lane, lane by lane.
qpal.weight @w : tensor<32x32xf32>
func.func @scalar(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %0 = qpal.linear %x, @w {quantizer = #qpal.sq<bits = 4>} : tensor<?x32xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
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
qpal.weight @w : tensor<36x128xf32>
func.func @simt(%x: tensor<?x128xf32>) -> tensor<?x36xf32> {
  %0 = qpal.linear %x, @w {quantizer = #qpal.vq<bits = 6, kernel = simt>} : tensor<?x128xf32> -> tensor<?x36xf32>
  return %0 : tensor<?x36xf32>
}
// CHECK: func.func @qpal_ldlq_2_6_none_1p0_simt_m36_k128_n3_cpu(%{{.*}}: memref<3x128xf32>, %{{.*}}: memref<1728xi8>, %{{.*}}: memref<128xf32>
// CHECK-COUNT-64: memref.load %{{.*}}[%{{.*}}] : memref<128xf32>
// AVX512: func.func @qpal_ldlq_2_6_none_1p0_simt_m36_k128_n3_cpu
// AVX2: func.func @qpal_ldlq_2_6_none_1p0_simt_m36_k128_n3_cpu

// -----

// Full SIMT chunks decode their 32 lanes at once: each of a lane's b = 4
// words is one load of 32 consecutive words, and 32 codes of 32 lanes are 32
// gathers from the 16-entry codebook (generic ISA), lane by lane 32 loads.
qpal.weight @w : tensor<32x2048xf32>
func.func @simt_chunks(%x: tensor<?x2048xf32>) -> tensor<?x32xf32> {
  %0 = qpal.linear %x, @w {quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x2048xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
// CHECK: func.func @qpal_ldlq_1_4_none_1p0_simt_m32_k2048_n3_cpu
// CHECK-COUNT-4: vector.load %{{.*}}[%{{.*}}] : memref<{{[0-9]+}}xi32>, vector<32xi32>
// CHECK-COUNT-32: vector.gather %{{.*}} : memref<16xf32>, vector<32xi32>, vector<32xi1>, vector<32xf32> into vector<32xf32>
// CHECK: vector.reduction <add>
// SCALAR: func.func @qpal_ldlq_1_4_none_1p0_simt_m32_k2048_n3_cpu
// SCALAR-COUNT-32: memref.load %{{.*}}[%{{.*}}] : memref<16xf32>
// SCALAR-NOT: vector.gather

// -----

// f16 layers run a dense library GEMV: no kernel is generated.
qpal.weight @w : tensor<32x32xf32>
// CHECK-LABEL: func.func @dense
func.func @dense(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // CHECK: qpal.linear %{{.*}}, @w {quantizer = #qpal.f16}
  %0 = qpal.linear %x, @w {quantizer = #qpal.f16} : tensor<?x32xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
// CHECK-NOT: func.func @qpal_
