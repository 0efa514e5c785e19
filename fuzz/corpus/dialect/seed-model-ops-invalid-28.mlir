

// expected-error @+1 {{'qpal.kv_cache' marks a rank-3 f32 memref argument, got 'memref<?x8xf32>'}}
func.func @kv_cache_rank(%cache: memref<?x8xf32> {qpal.kv_cache}) {
  return
}

