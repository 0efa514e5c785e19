// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-map-to-gpu

// The host never touches a buffer's elements: a load outside every loop
// nest would read device memory from the CPU.
func.func @host_load(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' op would touch a buffer's elements on the host: qpal-map-to-gpu expects every such access inside an scf.parallel}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// A reduction's iterations combine their results: not one thread per
// element.
func.func @reduction(%in: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{'scf.parallel' op is a reduction: qpal-map-to-gpu expects loop nests without results (each thread writes its own elements)}}
  %sum = scf.parallel (%i) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
    %v = memref.load %in[%i] : memref<4xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// -----

// A constant global's bytes are host memory: weights must be in the arena
// first.
memref.global "private" constant @table : memref<4xf32> = dense<1.0>
func.func @global(%out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{'memref.get_global' op reads the host global @table, which a GPU kernel cannot see (qpal-externalize-weights puts weights in the arena)}}
  %t = memref.get_global @table : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %t[%i] : memref<4xf32>
    memref.store %v, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

// RUN: not qpal-opt %s -split-input-file -qpal-map-to-gpu="threads=2048" 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: error: qpal-map-to-gpu: threads must lie in [1, 1024], got 2048
func.func @threads() {
  return
}
