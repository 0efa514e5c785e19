// RUN: qpal-opt %s -split-input-file -verify-diagnostics

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
func.func @not_a_linear(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op may only contain 'qpal.linear' members, found 'qpal.add'}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{see this operation}}
    %b = qpal.add %x, %x : tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
func.func @one_member(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.fusion_group' op expects at least 2 members, got 1}}
  %0 = qpal.fusion_group -> (tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a : tensor<?x64xf32>
  }
  return %0 : tensor<?x64xf32>
}

// -----

// o reads the attention output, q the normed hidden state: no shared input.
qpal.weight @q : tensor<64x64xf32>
qpal.weight @o : tensor<64x64xf32>
func.func @different_inputs(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op fused members must share their input: member #1 reads a different value than member #0}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{member #1}}
    %b = qpal.linear %y, @o : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// A chain is not a fusion: member #1 reads member #0's result.
qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @chained(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op fused members must share their input: member #1 reads a different value than member #0}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{member #1}}
    %b = qpal.linear %a, @k : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
func.func @different_quantizers(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op fused members must share their quantizer: member #1 has #qpal.tcq<kv = 7>, member #0 has #qpal.tcq<kv = 6>}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x32xf32>) {
    %a = qpal.linear %x, @q {quantizer = #qpal.tcq<kv = 6>} : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{member #1}}
    %b = qpal.linear %x, @k {quantizer = #qpal.tcq<kv = 7>} : tensor<?x64xf32> -> tensor<?x32xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x32xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x32xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<32x64xf32>
func.func @quantizer_and_none(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op fused members must share their quantizer: member #1 has none, member #0 has #qpal.sq<bits = 4>}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x32xf32>) {
    %a = qpal.linear %x, @q {quantizer = #qpal.sq<bits = 4>} : tensor<?x64xf32> -> tensor<?x64xf32>
    // expected-note @+1 {{member #1}}
    %b = qpal.linear %x, @k : tensor<?x64xf32> -> tensor<?x32xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x32xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x32xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
func.func @repeated_weight(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op member #1 repeats the weight @q of member #0}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @yield_out_of_order(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op expects 'qpal.yield' to return the 2 member results in member order}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @k : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %b, %a : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @yield_too_few(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'qpal.fusion_group' op expects 'qpal.yield' to return the 2 member results in member order}}
  %0 = qpal.fusion_group -> (tensor<?x64xf32>) {
    %a = qpal.linear %x, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %x, @k : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a : tensor<?x64xf32>
  }
  return %0 : tensor<?x64xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @result_type(%x: tensor<4x64xf32>) -> (tensor<?x64xf32>, tensor<4x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op expects result #0 of type 'tensor<4x64xf32>', got 'tensor<?x64xf32>'}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<4x64xf32>) {
    %a = qpal.linear %x, @q : tensor<4x64xf32> -> tensor<4x64xf32>
    %b = qpal.linear %x, @k : tensor<4x64xf32> -> tensor<4x64xf32>
    qpal.yield %a, %b : tensor<4x64xf32>, tensor<4x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<4x64xf32>
}

// -----

qpal.weight @q : tensor<64x64xf32>
qpal.weight @k : tensor<64x64xf32>
func.func @block_arguments(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.fusion_group' op expects a body without block arguments}}
  %0:2 = qpal.fusion_group -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  ^bb0(%y: tensor<?x64xf32>):
    %a = qpal.linear %y, @q : tensor<?x64xf32> -> tensor<?x64xf32>
    %b = qpal.linear %y, @k : tensor<?x64xf32> -> tensor<?x64xf32>
    qpal.yield %a, %b : tensor<?x64xf32>, tensor<?x64xf32>
  }
  return %0#0, %0#1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

func.func @yield_outside(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.yield' op expects parent op 'qpal.fusion_group'}}
  qpal.yield %x : tensor<?x64xf32>
}
