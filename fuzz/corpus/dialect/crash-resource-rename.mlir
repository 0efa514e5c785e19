

// o bytes to lower blob 'absent' to be present}}
qpal.weight @w : tensor<4x4xf32> {valu1 = dense_resource<absent> : tensor<4x4xf32>}

