

func.func @layer_not_integer(%q: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'qpal.layer' must be a non-negative integer on a 'qpal.attention'}}
  %0 = qpal.attention %q, %q, %q {num_heads = 1, num_kv_heads = 1, head_dim = 8, qpal.layer = "zero"} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

