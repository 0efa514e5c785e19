// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-convert-to-buffers

// A packed weight reaches its layers through qpal.get_weight: one passed as
// a function argument has no globals to become, and the pass says so
// before converting anything.
// expected-error @+1 {{'func.func' op cannot lower a packed weight passed as block argument #1: packed weights are read with 'qpal.get_weight'}}
func.func @argument(%x: tensor<?x32xf32>, %w: !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>) -> tensor<?x32xf32> {
  %y = qpal.quantized_linear %x, %w : tensor<?x32xf32>, !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// The weight's buffers become the globals @o.codes, @o.scales and @o.signs:
// a symbol of one of those names is a clash, named with the op that holds it.
// expected-note @+1 {{by this op}}
func.func private @o.codes()
// expected-error @+1 {{'qpal.packed_weight' op cannot lower to the global '@o.codes': the name is taken}}
qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<2> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)

// -----

// A codebook global of the quantizer's name is reused only when it is the
// constant global of the codebook's type; anything else is a clash.
// expected-note @+1 {{by this op}}
memref.global "private" constant @qpal.codebook.ldlq_1_4_none_1.0.simt : memref<4xf32> = dense<0.0>
// expected-error @+1 {{'qpal.packed_weight' op cannot lower to the codebook global '@qpal.codebook.ldlq_1_4_none_1.0.simt': the name is taken by another op than a constant 'memref<16xf32>' global}}
qpal.packed_weight @o : !qpal.packed<32x32, #qpal.sq<bits = 4, kernel = simt>>
    codes(dense<2> : tensor<512xi8>) scales(dense<0.25> : tensor<32xf32>)
    signs(dense<1.0> : tensor<32xf32>)
