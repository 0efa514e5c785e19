// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-quantize-weights="model=%S/../Model/Inputs/tiny-llama.gguf"
// RUN: not qpal-opt %s -split-input-file -qpal-quantize-weights 2>&1 | FileCheck %s --check-prefix=NOMODEL
// RUN: not qpal-opt %s -split-input-file -qpal-quantize-weights="model=%S/Inputs/no-such-model.gguf" 2>&1 | FileCheck %s --check-prefix=MISSING

// Without the option, a module that does not name its model file cannot be
// quantized; one that names a file that is not there cannot either. The
// option, when given, takes precedence over the module's file (the first RUN
// line passes the second split).
// NOMODEL: error: qpal-quantize-weights needs the model file: set 'model' or the module's 'qpal.model_file'
// NOMODEL: error: cannot open 'no-such-dir/no-such-model.gguf': No such file or directory
// MISSING: error: cannot open '{{.*}}Inputs/no-such-model.gguf': No such file or directory
// MISSING-NOT: error: qpal-quantize-weights needs the model file

// The tensor a weight names must be in the model file.
qpal.weight @o : tensor<32x32xf32> {source = "model.layers.9.self_attn.o_proj.weight"}
func.func @missing_tensor(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error-re @+1 {{'qpal.linear' op cannot read weight 'model.layers.9.self_attn.o_proj.weight' from '{{.*}}tiny-llama.gguf': {{.*}}tiny-llama.gguf: no tensor named 'model.layers.9.self_attn.o_proj.weight'}}
  %y = qpal.linear %x, @o {quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

module attributes {qpal.model_file = "no-such-dir/no-such-model.gguf"} {
  qpal.weight @o : tensor<32x32xf32> {source = "model.layers.0.self_attn.o_proj.weight"}
  func.func @model_file_attribute(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
    %y = qpal.linear %x, @o {quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
    return %y : tensor<?x32xf32>
  }
}

// -----

// A weight without `source` is read by its symbol name, which the model does
// not hold here.
qpal.weight @o_proj : tensor<32x32xf32>
func.func @no_source(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // expected-error-re @+1 {{'qpal.linear' op cannot read weight 'o_proj' from '{{.*}}tiny-llama.gguf': {{.*}}no tensor named 'o_proj'}}
  %y = qpal.linear %x, @o_proj {quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// The tensor in the file must have as many values as the IR declares:
// o_proj is 32 x 32, not 64 x 32.
qpal.weight @o : tensor<64x32xf32> {source = "model.layers.0.self_attn.o_proj.weight"}
func.func @wrong_size(%x: tensor<?x32xf32>) -> tensor<?x64xf32> {
  // expected-error-re @+1 {{'qpal.linear' op weight 'model.layers.0.self_attn.o_proj.weight' in '{{.*}}tiny-llama.gguf' has 1024 values, the IR declares 'tensor<64x32xf32>'}}
  %y = qpal.linear %x, @o {quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A fusion group fails on its first member that cannot be read, and the
// error is on that member.
qpal.weight @q : tensor<32x32xf32> {source = "model.layers.0.self_attn.q_proj.weight"}
qpal.weight @k : tensor<16x32xf32> {source = "model.layers.0.self_attn.k_proj.bias"}
func.func @group_member(%x: tensor<?x32xf32>) -> (tensor<?x32xf32>, tensor<?x16xf32>) {
  %q, %k = qpal.fusion_group -> (tensor<?x32xf32>, tensor<?x16xf32>) {
    %0 = qpal.linear %x, @q {block = 0, role = #qpal.role<q>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x32xf32>
    // expected-error @+1 {{'qpal.linear' op cannot read weight 'model.layers.0.self_attn.k_proj.bias'}}
    %1 = qpal.linear %x, @k {block = 0, role = #qpal.role<k>, quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<?x32xf32> -> tensor<?x16xf32>
    qpal.yield %0, %1 : tensor<?x32xf32>, tensor<?x16xf32>
  }
  return %q, %k : tensor<?x32xf32>, tensor<?x16xf32>
}

// -----

// The kernels take tokens x features f32 activations: a linear on rank-3
// activations is refused by name before any weight is quantized, so the
// module is left as it was.
qpal.weight @o : tensor<32x32xf32> {source = "model.layers.0.self_attn.o_proj.weight"}
func.func @rank3(%x: tensor<2x?x32xf32>) -> tensor<2x?x32xf32> {
  // expected-error @+1 {{'qpal.linear' op cannot be quantized: its kernels take tokens x features f32 activations with a static feature dimension, got 'tensor<2x?x32xf32>'}}
  %y = qpal.linear %x, @o {quantizer = #qpal.sq<bits = 4, kernel = simt>} : tensor<2x?x32xf32> -> tensor<2x?x32xf32>
  return %y : tensor<2x?x32xf32>
}
