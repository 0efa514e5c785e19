

func.func @attention_heads(%q: tensor<?x576xf32>, %k: tensor<?x192xf32>, %v: tensor<?x192xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects positive num_heads, num_kv_heads and head_dim, got 0, 3, 64}}
  %0 = qpal.attention %q, %k, %v {num_heads = 0, num_kv_heads = 3, head_dim = 64} : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x192xf32>
  return %0 : tensor<?x576xf32>
}

