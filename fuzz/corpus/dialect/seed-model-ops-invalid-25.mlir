

func.func @layer_negative(%q: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.layer' must be a non-negative integer on a 'qpal.attention'}}
  %0 = qpal.attention %q, %q, %q {num_heads = 1, num_kv_heads = 1, head_dim = 8, qpal.layer = -1} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

