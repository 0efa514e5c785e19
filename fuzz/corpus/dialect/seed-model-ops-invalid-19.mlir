

func.func @attention_tokens(%q: tensor<4x576xf32>, %k: tensor<5x192xf32>, %v: tensor<5x192xf32>) -> tensor<4x576xf32> {
  // expected-error @+1 {{'qpal.attention' op expects query and key to have the same token dimensions, got 'tensor<4x576xf32>' and 'tensor<5x192xf32>'}}
  %0 = qpal.attention %q, %k, %v {num_heads = 9, num_kv_heads = 3, head_dim = 64} : tensor<4x576xf32>, tensor<5x192xf32>, tensor<5x192xf32>
  return %0 : tensor<4x576xf32>
}

