// RUN: rm -rf %t.model
// RUN: python3 %S/Inputs/add-safetensors-tensor.py %S/../Model/Inputs/tiny-llama %t.model big.weight 2 2 65519.0 1.0 -2.0 -70000.0
// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-materialize-weights="model=%t.model"
// RUN: not qpal-opt %s -split-input-file -qpal-materialize-weights 2>&1 | FileCheck %s --check-prefix=NOMODEL
// RUN: not qpal-opt %s -split-input-file -qpal-materialize-weights="model=%S/Inputs/no-such-model.gguf" 2>&1 | FileCheck %s --check-prefix=MISSING

// The model is the tiny test model as a safetensors checkpoint, plus an F32
// tensor 'big.weight' = [[65519, 1], [-2, -70000]].

// Without the option, a module that does not name its model file cannot be
// materialized; one that names a file that is not there cannot either. The
// option, when given, takes precedence over the module's file (the third
// RUN line passes the last split).
// NOMODEL: error: qpal-materialize-weights needs the model file: set 'model' or the module's 'qpal.model_file'
// NOMODEL: error: cannot open 'no-such-dir/no-such-model.gguf': No such file or directory
// MISSING: error: cannot open '{{.*}}Inputs/no-such-model.gguf': No such file or directory
// MISSING-NOT: error: qpal-materialize-weights needs the model file

// The tensor a weight names must be in the model file.
// expected-error-re @+1 {{'qpal.weight' op cannot read 'model.layers.9.input_layernorm.weight' from '{{.*}}.model': {{.*}}.model: no tensor named 'model.layers.9.input_layernorm.weight'}}
qpal.weight @gain : tensor<32xf32> {source = "model.layers.9.input_layernorm.weight"}
func.func @missing_tensor(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %y = qpal.rms_norm %x, @gain {epsilon = 1.0e-5 : f64} : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Without a `source`, the weight's own name is looked up.
// expected-error-re @+1 {{'qpal.weight' op cannot read 'model.norm' from '{{.*}}.model': {{.*}}.model: no tensor named 'model.norm'}}
qpal.weight @model.norm : tensor<32xf32>
func.func @missing_source(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %y = qpal.rms_norm %x, @model.norm {epsilon = 1.0e-5 : f64} : tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// The file's down_proj is 32 x 48; the IR says 16 x 48.
// expected-error-re @+1 {{'qpal.weight' op 'model.layers.0.mlp.down_proj.weight' in '{{.*}}.model' has 1536 values, the IR declares 'tensor<16x48xf32>'}}
qpal.weight @down : tensor<16x48xf32> {source = "model.layers.0.mlp.down_proj.weight"}
func.func @element_count(%h: tensor<?x48xf32>) -> tensor<?x16xf32> {
  %y = qpal.linear %h, @down {quantizer = #qpal.f16} : tensor<?x48xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Only an f16 linear reads the weight, so it is stored in f16: 65519 rounds
// to the largest half (65504) and passes, -70000 (index 3) does not fit.
// The error is on the reader that asked for f16.
qpal.weight @big : tensor<2x2xf32> {source = "big.weight"}
func.func @f16_overflow(%h: tensor<?x2xf32>) -> tensor<?x2xf32> {
  // expected-error @+1 {{'qpal.linear' op cannot store its weight 'big.weight' in f16: the value -7.000000e+04 at index 3 overflows fp16}}
  %y = qpal.linear %h, @big {quantizer = #qpal.f16} : tensor<?x2xf32> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

module attributes {qpal.model_file = "no-such-dir/no-such-model.gguf"} {
  qpal.weight @gain : tensor<32xf32> {source = "model.norm.weight"}
  func.func @model_file_attribute(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
    %y = qpal.rms_norm %x, @gain {epsilon = 1.0e-5 : f64} : tensor<?x32xf32>
    return %y : tensor<?x32xf32>
  }
}
