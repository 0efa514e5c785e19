

// A resource value whose blob is not in the file (e.g. printed with
// --mlir-elide-resource-strings-if-larger) has no bytes to lower.
// expected-error @+1 {{'qpal.weight' op expects the value's resource blob 'absent' to be present}}
qpal.weight @w : tensor<4x4xf32> {value = dense_resource<absent> : tensor<4x4xf32>}

