

func.func @gqa_groups(%q: tensor<?x576xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects num_heads to be a multiple of num_kv_heads (grouped-query attention), got 9 and 4}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 4, head_dim = 64} : tensor<?x576xf32>, tensor<?x256xf32>, tensor<?x256xf32>
  return %0 : tensor<?x576xf32>
}

