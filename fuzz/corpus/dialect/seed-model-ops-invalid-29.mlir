

// expected-error @+1 {{'qpal.kv_cache' marks a rank-3 f32 memref argument, got 'memref<?x?x8xf16>'}}
func.func @kv_cache_f16(%cache: memref<?x?x8xf16> {qpal.kv_cache}) {
  return
}

