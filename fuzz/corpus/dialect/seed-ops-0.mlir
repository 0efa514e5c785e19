
// One SmolLM2 decoder block at the dialect's grain: q/k/v and gate/up fused,
// every linear layer quantized, the LM head tied to the embedding table.

// CHECK: module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, #qpal.tcq_split<kv1 = 6, kv2 = 7>, #qpal.sq<bits = 4>]>}
module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, #qpal.tcq_split<kv1 = 6, kv2 = 7>, #qpal.sq<bits = 4>]>} {
  // CHECK: qpal.weight @token_embd : tensor<49152x576xf32> {source = "token_embd.weight"}
  qpal.weight @token_embd : tensor<49152x576xf32> {source = "token_embd.weight"}
  qpal.weight @attn_norm : tensor<576xf32> {source = "blk.0.attn_norm.weight"}
  qpal.weight @q : tensor<576x576xf32> {source = "blk.0.attn_q.weight"}
  qpal.weight @k : tensor<192x576xf32> {source = "blk.0.attn_k.weight"}
  qpal.weight @v : tensor<192x576xf32> {source = "blk.0.attn_v.weight"}
  qpal.weight @o : tensor<576x576xf32> {source = "blk.0.attn_output.weight"}
  qpal.weight @ffn_norm : tensor<576xf32> {source = "blk.0.ffn_norm.weight"}
  qpal.weight @gate : tensor<1536x576xf32> {source = "blk.0.ffn_gate.weight"}
  qpal.weight @up : tensor<1536x576xf32> {source = "blk.0.ffn_up.weight"}
  qpal.weight @down : tensor<576x1536xf16> {source = "blk.0.ffn_down.weight"}
  qpal.weight @output_norm : tensor<576xbf16>

  // CHECK-LABEL: func.func @forward
  // CHECK-SAME: (%[[IDS:.*]]: tensor<?xi32>, %[[POS:.*]]: tensor<?xi32>)
  func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x49152xf32> {
    // CHECK: %[[H:.*]] = qpal.embedding %[[IDS]], @token_embd : tensor<?xi32> -> tensor<?x576xf32>
    %h = qpal.embedding %ids, @token_embd : tensor<?xi32> -> tensor<?x576xf32>
    // CHECK: %[[N:.*]] = qpal.rms_norm %[[H]], @attn_norm {epsilon = 1.000000e-05 : f64} : tensor<?x576xf32>
    %n = qpal.rms_norm %h, @attn_norm {epsilon = 1.0e-05 : f64} : tensor<?x576xf32>
    // CHECK: %[[QKV:.*]]:3 = qpal.fusion_group -> (tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>) {
    // CHECK-NEXT: %[[Q0:.*]] = qpal.linear %[[N]], @q {block = 0 : i64, quantizer = #qpal.tcq<kv = 6>, role = #qpal.role<q>, sensitivity = 1.250000e-02 : f64} : tensor<?x576xf32> -> tensor<?x576xf32>
    // CHECK-NEXT: %[[K0:.*]] = qpal.linear %[[N]], @k
    // CHECK-NEXT: %[[V0:.*]] = qpal.linear %[[N]], @v
    // CHECK-NEXT: qpal.yield %[[Q0]], %[[K0]], %[[V0]] : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
    // CHECK-NEXT: }
    %q, %k, %v = qpal.fusion_group -> (tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>) {
      %0 = qpal.linear %n, @q {block = 0, role = #qpal.role<q>, quantizer = #qpal.tcq<kv = 6>, sensitivity = 1.25e-2 : f64} : tensor<?x576xf32> -> tensor<?x576xf32>
      %1 = qpal.linear %n, @k {block = 0, role = #qpal.role<k>, quantizer = #qpal.tcq<kv = 6>} : tensor<?x576xf32> -> tensor<?x192xf32>
      %2 = qpal.linear %n, @v {block = 0, role = #qpal.role<v>, quantizer = #qpal.tcq<kv = 6>} : tensor<?x576xf32> -> tensor<?x192xf32>
      qpal.yield %0, %1, %2 : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
    }
    // CHECK: %[[RQ:.*]] = qpal.rope %[[QKV]]#0, %[[POS]] {head_dim = 64 : i64, interleaved, theta = 1.000000e+05 : f64} : tensor<?x576xf32>, tensor<?xi32>
    %rq = qpal.rope %q, %pos {head_dim = 64, theta = 1.0e+05 : f64, interleaved} : tensor<?x576xf32>, tensor<?xi32>
    %rk = qpal.rope %k, %pos {head_dim = 64, theta = 1.0e+05 : f64, interleaved} : tensor<?x192xf32>, tensor<?xi32>
    // CHECK: %[[ATT:.*]] = qpal.attention %[[RQ]], %{{.*}}, %[[QKV]]#2 {head_dim = 64 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64} : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
    %att = qpal.attention %rq, %rk, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
    // CHECK: qpal.linear %[[ATT]], @o {block = 0 : i64, quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>, role = #qpal.role<o>}
    %o = qpal.linear %att, @o {block = 0, role = #qpal.role<o>, quantizer = #qpal.tcq_split<kv1 = 6, kv2 = 7>} : tensor<?x576xf32> -> tensor<?x576xf32>
    // CHECK: %[[H1:.*]] = qpal.add %[[H]], %{{.*}} : tensor<?x576xf32>
    %h1 = qpal.add %h, %o : tensor<?x576xf32>
    %n1 = qpal.rms_norm %h1, @ffn_norm {epsilon = 1.0e-05 : f64} : tensor<?x576xf32>
    // CHECK: qpal.fusion_group -> (tensor<?x1536xf32>, tensor<?x1536xf32>)
    %g, %u = qpal.fusion_group -> (tensor<?x1536xf32>, tensor<?x1536xf32>) {
      %0 = qpal.linear %n1, @gate {block = 0, role = #qpal.role<gate>, quantizer = #qpal.sq<bits = 4>} : tensor<?x576xf32> -> tensor<?x1536xf32>
      %1 = qpal.linear %n1, @up {block = 0, role = #qpal.role<up>, quantizer = #qpal.sq<bits = 4>} : tensor<?x576xf32> -> tensor<?x1536xf32>
      qpal.yield %0, %1 : tensor<?x1536xf32>, tensor<?x1536xf32>
    }
    // CHECK: qpal.swiglu %{{.*}}, %{{.*}} : tensor<?x1536xf32>
    %a = qpal.swiglu %g, %u : tensor<?x1536xf32>
    // A layer without a quantizer yet (before allocation).
    // CHECK: qpal.linear %{{.*}}, @down {block = 0 : i64, role = #qpal.role<down>} : tensor<?x1536xf32> -> tensor<?x576xf32>
    %d = qpal.linear %a, @down {block = 0, role = #qpal.role<down>} : tensor<?x1536xf32> -> tensor<?x576xf32>
    %h2 = qpal.add %h1, %d : tensor<?x576xf32>
    %hn = qpal.rms_norm %h2, @output_norm {epsilon = 1.0e-05 : f64} : tensor<?x576xf32>
    // CHECK: qpal.lm_head %{{.*}}, @token_embd : tensor<?x576xf32> -> tensor<?x49152xf32>
    %logits = qpal.lm_head %hn, @token_embd : tensor<?x576xf32> -> tensor<?x49152xf32>
    return %logits : tensor<?x49152xf32>
  }

  // Static token dimensions and batched (rank-3) activations.
  // CHECK-LABEL: func.func @batched
  func.func @batched(%x: tensor<2x8x576xf32>) -> tensor<2x8x192xf32> {
    // CHECK: qpal.linear %{{.*}}, @k : tensor<2x8x576xf32> -> tensor<2x8x192xf32>
    %0 = qpal.linear %x, @k : tensor<2x8x576xf32> -> tensor<2x8x192xf32>
    return %0 : tensor<2x8x192xf32>
  }
}
