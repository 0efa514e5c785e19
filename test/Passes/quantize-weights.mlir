// RUN: qpal-opt %s -split-input-file -qpal-quantize-weights="model=%S/../Model/Inputs/tiny-llama.gguf" | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-quantize-weights="model=%S/../Model/Inputs/tiny-llama.gguf" | qpal-opt -split-input-file | FileCheck %s
// RUN: qpal-opt %s -split-input-file -qpal-quantize-weights="model=%S/../Model/Inputs/tiny-llama.gguf seed=7" | FileCheck %s --check-prefix=SEED7

// The weights name tensors of the tiny test model (hidden 32, k/v 16 rows,
// MLP 48). The 4-bit SIMT SQ layout packs any 16-row weight; the second
// RUN line re-parses the dense_resource blobs the pass prints.

// Unfused q/k/v of block 0: three packed weights named after block and
// role. The three share the attention input rotation, so they get one seed
// (derived from the option's seed, the block and the rotation domain, as
// `qpal eval` derives it) and hence one sign vector.
// A layer without a quantizer is left alone with its dense weight; a layer
// without block and role is named after its weight and takes the option's
// seed as it is.
// CHECK-LABEL: module {
// CHECK-NEXT: qpal.weight @o : tensor<32x32xf32>
// CHECK-NEXT: qpal.packed_weight @blk0.q : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: codes(dense_resource<blk0.q.codes> : tensor<512xi8>) scales(dense_resource<blk0.q.scales> : tensor<32xf32>) signs(dense_resource<blk0.q.signs> : tensor<32xf32>)
// CHECK-SAME: {seed = 3987114186001319103 : ui64, sources = ["model.layers.0.self_attn.q_proj.weight"]}
// CHECK-NEXT: qpal.packed_weight @blk0.k : !qpal.packed<16x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: codes(dense_resource<blk0.k.codes> : tensor<256xi8>) scales(dense_resource<blk0.k.scales> : tensor<16xf32>) signs(dense_resource<blk0.k.signs> : tensor<32xf32>)
// CHECK-SAME: {seed = 3987114186001319103 : ui64, sources = ["model.layers.0.self_attn.k_proj.weight"]}
// CHECK-NEXT: qpal.packed_weight @blk0.v : !qpal.packed<16x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: {seed = 3987114186001319103 : ui64, sources = ["model.layers.0.self_attn.v_proj.weight"]}
// CHECK-NEXT: qpal.packed_weight @o1.packed : !qpal.packed<32x32, #qpal.sq<bits = 4>>
// CHECK-SAME: {seed = 0 : ui64, sources = ["model.layers.1.self_attn.o_proj.weight"]}
// CHECK-NEXT: func.func @unfused(%[[X:.*]]: tensor<?x32xf32>)
// CHECK-NEXT: %[[WQ:.*]] = qpal.get_weight @blk0.q : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-NEXT: %[[Q:.*]] = qpal.quantized_linear %[[X]], %[[WQ]] {block = 0 : i64, roles = [#qpal.role<q>]} : tensor<?x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>
// CHECK-NEXT: %[[WK:.*]] = qpal.get_weight @blk0.k
// CHECK-NEXT: %[[K:.*]] = qpal.quantized_linear %[[X]], %[[WK]] {block = 0 : i64, roles = [#qpal.role<k>]} : tensor<?x32xf32>, !qpal.packed<16x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x16xf32>
// CHECK-NEXT: %[[WV:.*]] = qpal.get_weight @blk0.v
// CHECK-NEXT: %[[V:.*]] = qpal.quantized_linear %[[X]], %[[WV]]
// CHECK-NEXT: %[[O:.*]] = qpal.linear %[[X]], @o {block = 0 : i64, role = #qpal.role<o>} : tensor<?x32xf32> -> tensor<?x32xf32>
// CHECK-NEXT: %[[WO1:.*]] = qpal.get_weight @o1.packed : !qpal.packed<32x32, #qpal.sq<bits = 4>>
// CHECK-NEXT: %[[O1:.*]] = qpal.quantized_linear %[[X]], %[[WO1]] : tensor<?x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4>> -> tensor<?x32xf32>
// CHECK-NEXT: return %[[Q]], %[[K]], %[[V]], %[[O]], %[[O1]]
// The blobs (alignment word, then the bytes): 512 code bytes, 32 positive
// fp16-exact row scales (low 13 mantissa bits zero), 32 signs of +-1.0.
// k and v reuse q's sign vector.
// CHECK: blk0.q.codes: "0x01000000[[QCODES:([0-9A-F]{64}){16}]]"
// CHECK-NEXT: blk0.q.scales: "0x04000000[[QSCALES:(00[02468ACE]0[0-9A-F]{2}[0-7][0-9A-F]){32}]]"
// CHECK-NEXT: blk0.q.signs: "0x04000000[[SIGNS:(0000803F|000080BF){32}]]"
// CHECK-NEXT: blk0.k.codes: "0x01000000[[KCODES:([0-9A-F]{64}){8}]]"
// CHECK-NEXT: blk0.k.scales: "0x04000000[[KSCALES:(00[02468ACE]0[0-9A-F]{2}[0-7][0-9A-F]){16}]]"
// CHECK-NEXT: blk0.k.signs: "0x04000000[[SIGNS]]"
// CHECK-NEXT: blk0.v.codes: "0x01000000[[VCODES:([0-9A-F]{64}){8}]]"
// CHECK-NEXT: blk0.v.scales: "0x04000000[[VSCALES:(00[02468ACE]0[0-9A-F]{2}[0-7][0-9A-F]){16}]]"
// CHECK-NEXT: blk0.v.signs: "0x04000000[[SIGNS]]"
// CHECK-NEXT: o1.packed.codes: "0x01000000{{([0-9A-F]{64}){16}"}}

// The option's seed feeds every derived seed, and is the seed of a layer
// that does not know its place.
// SEED7-LABEL: module {
// SEED7: qpal.packed_weight @blk0.q
// SEED7-SAME: seed = 138543549774251389 : ui64
// SEED7: qpal.packed_weight @blk0.k
// SEED7-SAME: seed = 138543549774251389 : ui64
// SEED7: qpal.packed_weight @blk0.v
// SEED7-SAME: seed = 138543549774251389 : ui64
// SEED7: qpal.packed_weight @o1.packed
// SEED7-SAME: seed = 7 : ui64
qpal.weight @q : tensor<32x32xf32> {source = "model.layers.0.self_attn.q_proj.weight"}
qpal.weight @k : tensor<16x32xf32> {source = "model.layers.0.self_attn.k_proj.weight"}
qpal.weight @v : tensor<16x32xf32> {source = "model.layers.0.self_attn.v_proj.weight"}
qpal.weight @o : tensor<32x32xf32> {source = "model.layers.0.self_attn.o_proj.weight"}
qpal.weight @o1 : tensor<32x32xf32> {source = "model.layers.1.self_attn.o_proj.weight"}
func.func @unfused(%x: tensor<?x32xf32>) -> (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %q = qpal.linear %x, @q {block = 0, role = #qpal.role<q>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
  %k = qpal.linear %x, @k {block = 0, role = #qpal.role<k>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x16xf32>
  %v = qpal.linear %x, @v {block = 0, role = #qpal.role<v>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x16xf32>
  %o = qpal.linear %x, @o {block = 0, role = #qpal.role<o>} : tensor<?x32xf32> -> tensor<?x32xf32>
  %o1 = qpal.linear %x, @o1 {quantizer = #qpal.sq<bits = 4>} : tensor<?x32xf32> -> tensor<?x32xf32>
  return %q, %k, %v, %o, %o1 : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// Block 0 with q/k/v and gate/up fused, o alone and down kept in f16. Each
// fusion group becomes one packed weight of its members' rows, stacked in
// member order (32 + 16 + 16 = 64 for q/k/v, 48 + 48 = 96 for gate/up), and
// one quantized linear with a result per member. Dense weights nothing reads
// any more are erased; the embedding table, the norm gains and the f16
// down_proj are still read and stay.
// CHECK-LABEL: module {
// CHECK-NEXT: qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight"}
// CHECK-NEXT: qpal.weight @attn_norm : tensor<32xf32>
// CHECK-NEXT: qpal.weight @mlp_norm : tensor<32xf32>
// CHECK-NEXT: qpal.weight @down : tensor<32x48xf32> {source = "model.layers.0.mlp.down_proj.weight"}
// CHECK-NEXT: qpal.packed_weight @blk0.q_k_v : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: codes(dense_resource<blk0.q_k_v.codes> : tensor<1024xi8>) scales(dense_resource<blk0.q_k_v.scales> : tensor<64xf32>) signs(dense_resource<blk0.q_k_v.signs> : tensor<32xf32>)
// CHECK-SAME: {seed = 3987114186001319103 : ui64, sources = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight"]}
// CHECK-NEXT: qpal.packed_weight @blk0.o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: codes(dense_resource<blk0.o.codes> : tensor<512xi8>) scales(dense_resource<blk0.o.scales> : tensor<32xf32>) signs(dense_resource<blk0.o.signs> : tensor<32xf32>)
// CHECK-SAME: {seed = 2702307325150756021 : ui64, sources = ["model.layers.0.self_attn.o_proj.weight"]}
// CHECK-NEXT: qpal.packed_weight @blk0.gate_up : !qpal.packed<96x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-SAME: codes(dense_resource<blk0.gate_up.codes> : tensor<1536xi8>) scales(dense_resource<blk0.gate_up.scales> : tensor<96xf32>) signs(dense_resource<blk0.gate_up.signs> : tensor<32xf32>)
// CHECK-SAME: {seed = 10444742236907304837 : ui64, sources = ["model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight"]}
// CHECK-NEXT: func.func @block0(%[[IDS:.*]]: tensor<?xi32>)
// CHECK-NEXT: %[[H:.*]] = qpal.embedding %[[IDS]], @embed
// CHECK-NEXT: %[[N:.*]] = qpal.rms_norm %[[H]], @attn_norm
// CHECK-NEXT: %[[WQKV:.*]] = qpal.get_weight @blk0.q_k_v : !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-NEXT: %[[QKV:.*]]:3 = qpal.quantized_linear %[[N]], %[[WQKV]] {block = 0 : i64, roles = [#qpal.role<q>, #qpal.role<k>, #qpal.role<v>]}
// CHECK-SAME: : tensor<?x32xf32>, !qpal.packed<64x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
// CHECK-NEXT: %[[WO:.*]] = qpal.get_weight @blk0.o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-NEXT: %[[O:.*]] = qpal.quantized_linear %[[QKV]]#0, %[[WO]] {block = 0 : i64, roles = [#qpal.role<o>]}
// CHECK-NEXT: %[[H1:.*]] = qpal.add %[[H]], %[[O]]
// CHECK-NEXT: %[[N1:.*]] = qpal.rms_norm %[[H1]], @mlp_norm
// CHECK-NEXT: %[[WGU:.*]] = qpal.get_weight @blk0.gate_up : !qpal.packed<96x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-NEXT: %[[GU:.*]]:2 = qpal.quantized_linear %[[N1]], %[[WGU]] {block = 0 : i64, roles = [#qpal.role<gate>, #qpal.role<up>]}
// CHECK-SAME: -> tensor<?x48xf32>, tensor<?x48xf32>
// CHECK-NEXT: %[[A:.*]] = qpal.swiglu %[[GU]]#0, %[[GU]]#1
// CHECK-NEXT: %[[D:.*]] = qpal.linear %[[A]], @down {block = 0 : i64, quantizer = #qpal.f16, role = #qpal.role<down>}
// CHECK-NEXT: return %[[QKV]]#1, %[[QKV]]#2, %[[D]]
// The stacked weight is its members' weights, quantized alone: q/k/v's
// codes and scales are q's, k's and v's (previous split) end to end, and
// its sign vector is theirs.
// CHECK: blk0.q_k_v.codes: "0x01000000[[QCODES]][[KCODES]][[VCODES]]"
// CHECK-NEXT: blk0.q_k_v.scales: "0x04000000[[QSCALES]][[KSCALES]][[VSCALES]]"
// CHECK-NEXT: blk0.q_k_v.signs: "0x04000000[[SIGNS]]"
// CHECK-NEXT: blk0.o.codes: "0x01000000{{([0-9A-F]{64}){16}"}}
// CHECK: blk0.gate_up.codes: "0x01000000{{([0-9A-F]{64}){48}"}}
// CHECK-NEXT: blk0.gate_up.scales: "0x04000000{{(00[02468ACE]0[0-9A-F]{2}[0-7][0-9A-F]){96}"}}

// SEED7-LABEL: module {
// SEED7: qpal.packed_weight @blk0.q_k_v
// SEED7-SAME: seed = 138543549774251389 : ui64
// SEED7: qpal.packed_weight @blk0.o
// SEED7-SAME: seed = 7321524397225331462 : ui64
// SEED7: qpal.packed_weight @blk0.gate_up
// SEED7-SAME: seed = 692242303556446359 : ui64
qpal.weight @embed : tensor<64x32xf32> {source = "model.embed_tokens.weight"}
qpal.weight @attn_norm : tensor<32xf32> {source = "model.layers.0.input_layernorm.weight"}
qpal.weight @q : tensor<32x32xf32> {source = "model.layers.0.self_attn.q_proj.weight"}
qpal.weight @k : tensor<16x32xf32> {source = "model.layers.0.self_attn.k_proj.weight"}
qpal.weight @v : tensor<16x32xf32> {source = "model.layers.0.self_attn.v_proj.weight"}
qpal.weight @o : tensor<32x32xf32> {source = "model.layers.0.self_attn.o_proj.weight"}
qpal.weight @mlp_norm : tensor<32xf32> {source = "model.layers.0.post_attention_layernorm.weight"}
qpal.weight @gate : tensor<48x32xf32> {source = "model.layers.0.mlp.gate_proj.weight"}
qpal.weight @up : tensor<48x32xf32> {source = "model.layers.0.mlp.up_proj.weight"}
qpal.weight @down : tensor<32x48xf32> {source = "model.layers.0.mlp.down_proj.weight"}
func.func @block0(%ids: tensor<?xi32>) -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>) {
  %h = qpal.embedding %ids, @embed : tensor<?xi32> -> tensor<?x32xf32>
  %n = qpal.rms_norm %h, @attn_norm {epsilon = 1.0e-05 : f64} : tensor<?x32xf32>
  %q, %k, %v = qpal.fusion_group -> (tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>) {
    %0 = qpal.linear %n, @q {block = 0, role = #qpal.role<q>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
    %1 = qpal.linear %n, @k {block = 0, role = #qpal.role<k>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x16xf32>
    %2 = qpal.linear %n, @v {block = 0, role = #qpal.role<v>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x16xf32>
    qpal.yield %0, %1, %2 : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  }
  %o = qpal.linear %q, @o {block = 0, role = #qpal.role<o>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
  %h1 = qpal.add %h, %o : tensor<?x32xf32>
  %n1 = qpal.rms_norm %h1, @mlp_norm {epsilon = 1.0e-05 : f64} : tensor<?x32xf32>
  %g, %u = qpal.fusion_group -> (tensor<?x48xf32>, tensor<?x48xf32>) {
    %0 = qpal.linear %n1, @gate {block = 0, role = #qpal.role<gate>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x48xf32>
    %1 = qpal.linear %n1, @up {block = 0, role = #qpal.role<up>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x48xf32>
    qpal.yield %0, %1 : tensor<?x48xf32>, tensor<?x48xf32>
  }
  %a = qpal.swiglu %g, %u : tensor<?x48xf32>
  %d = qpal.linear %a, @down {block = 0, role = #qpal.role<down>, quantizer = #qpal.f16} : tensor<?x48xf32> -> tensor<?x32xf32>
  return %k, %v, %d : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x32xf32>
}

// -----

// Nothing to quantize (f16 and unassigned layers only): the module is left
// as it is, unused weights included.
// CHECK-LABEL: module {
// CHECK-NEXT: qpal.weight @down : tensor<32x48xf32>
// CHECK-NEXT: qpal.weight @spare : tensor<32xf32>
// CHECK-NEXT: func.func @dense
// CHECK-NEXT: qpal.linear %{{.*}}, @down {quantizer = #qpal.f16}
// CHECK-NEXT: qpal.linear %{{.*}}, @down :
// CHECK-NOT: qpal.packed_weight
qpal.weight @down : tensor<32x48xf32> {source = "model.layers.0.mlp.down_proj.weight"}
qpal.weight @spare : tensor<32xf32> {source = "model.norm.weight"}
func.func @dense(%x: tensor<?x48xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %a = qpal.linear %x, @down {quantizer = #qpal.f16} : tensor<?x48xf32> -> tensor<?x32xf32>
  %b = qpal.linear %x, @down : tensor<?x48xf32> -> tensor<?x32xf32>
  return %a, %b : tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// Two layers that read one weight with one quantizer in one place of the
// model share one packed weight: it is quantized once. A layer reading it
// with another quantizer gets its own.
// CHECK-LABEL: module
// CHECK: qpal.packed_weight @blk0.o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK-NEXT: qpal.packed_weight @blk0.o_0 : !qpal.packed<32x32, #qpal.sq<bits = 2, kernel = simt>>
// CHECK-NOT: qpal.packed_weight
// CHECK-LABEL: func.func @shared
// CHECK-COUNT-2: qpal.get_weight @blk0.o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
// CHECK: qpal.get_weight @blk0.o_0 :
qpal.weight @o : tensor<32x32xf32> {source = "model.layers.0.self_attn.o_proj.weight"}
func.func @shared(%x: tensor<?x32xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %a = qpal.linear %x, @o {block = 0 : i64, role = #qpal.role<o>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
  %b = qpal.linear %x, @o {block = 0 : i64, role = #qpal.role<o>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
  %c = qpal.linear %x, @o {block = 0 : i64, role = #qpal.role<o>, quantizer = #qpal.sq<bits = 2, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
  return %a, %b, %c : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}
