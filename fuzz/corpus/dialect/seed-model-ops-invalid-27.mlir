

// The KV cache is a buffer the runtime owns: [2 x layers, capacity, width]
// in f32.
// expected-error @+1 {{'qpal.kv_cache' marks a rank-3 f32 memref argument, got 'tensor<?x?x8xf32>'}}
func.func @kv_cache_tensor(%cache: tensor<?x?x8xf32> {qpal.kv_cache}) {
  return
}

