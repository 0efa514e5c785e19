

func.func @attention_value(%q: tensor<?x576xf32>, %k: tensor<?x192xf32>, %v: tensor<?x64xf32>) -> tensor<?x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects a value (num_kv_heads * head_dim) of 192 features, got 64}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<?x576xf32>, tensor<?x192xf32>, tensor<?x64xf32>
  return %0 : tensor<?x576xf32>
}

