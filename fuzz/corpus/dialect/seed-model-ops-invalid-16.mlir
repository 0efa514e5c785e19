

func.func @attention_query(%q: tensor<?x512xf32>, %k: tensor<?x192xf32>, %v: tensor<?x192xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'qpal.attention' op expects a query (num_heads * head_dim) of 576 features, got 512}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<?x512xf32>, tensor<?x192xf32>, tensor<?x192xf32>
  return %0 : tensor<?x512xf32>
}

