// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-externalize-weights
// RUN: not qpal-opt %s -split-input-file -qpal-externalize-weights="arena-file=%t.no-such-dir/arena.bin" 2>&1 | FileCheck %s --check-prefix=OPEN

// The arena is written only by a pass that succeeds, and only where it can
// be: the last split is fine but for the file.
// OPEN: error: cannot write '{{.*}}.no-such-dir/arena.bin': No such file or directory

// The arena is an entry point's first argument: without an entry point (a
// function with llvm.emit_c_interface and a body) there is no arena. A
// declaration does not count.
// expected-error @+1 {{qpal-externalize-weights found no entry point (a function with llvm.emit_c_interface)}}
module {
  memref.global "private" constant @w : memref<2xf32> = dense<[1.0, 2.0]>
  func.func @not_an_entry() -> memref<2xf32> {
    %w = memref.get_global @w : memref<2xf32>
    return %w : memref<2xf32>
  }
  func.func private @declared() attributes {llvm.emit_c_interface}
}

// -----

// A resource whose blob is not in the module (printed with
// --mlir-elide-resource-strings-if-larger, say) has no bytes for the arena.
// expected-error @+1 {{'memref.global' op has no bytes: its resource blob 'elided' is missing (elided when printed?)}}
memref.global "private" constant @w : memref<2xf32> = dense_resource<elided>
func.func @step(%out: memref<2xf32>) attributes {llvm.emit_c_interface} {
  %w = memref.get_global @w : memref<2xf32>
  memref.copy %w, %out : memref<2xf32> to memref<2xf32>
  return
}

// -----

memref.global "private" constant @w : memref<2xf32> = dense<[1.0, 2.0]>
func.func @step(%out: memref<2xf32>) attributes {llvm.emit_c_interface} {
  %w = memref.get_global @w : memref<2xf32>
  memref.copy %w, %out : memref<2xf32> to memref<2xf32>
  return
}
