

func.func @attention_key(%q: tensor<?x576xf32>, %k: tensor<?x128xf32>, %v: tensor<?x192xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects a key (num_kv_heads * head_dim) of 192 features, got 128}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<?x576xf32>, tensor<?x128xf32>, tensor<?x192xf32>
  return %0 : tensor<?x576xf32>
}

