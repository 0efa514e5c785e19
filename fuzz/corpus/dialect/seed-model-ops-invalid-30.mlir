

// expected-error @+1 {{unknown qpal argument attribute 'qpal.cache'}}
func.func @unknown_argument_attribute(%cache: memref<?x?x8xf32> {qpal.cache}) {
  return
}
