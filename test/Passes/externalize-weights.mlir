// RUN: qpal-opt %s -qpal-externalize-weights="arena-file=%t.bin" | FileCheck %s
// RUN: wc -c < %t.bin | FileCheck %s --check-prefix=SIZE
// RUN: od -An -v -tx1 -w64 %t.bin | FileCheck %s --check-prefix=BYTES

// The entry points are the functions with llvm.emit_c_interface and a body.
// The constant globals with a value that they read go into the arena in
// order of first use (@step_a before @step_b, each in program order), each
// at the next multiple of 64 bytes: @b (2 bytes) at 0, @a (12) at 64,
// @shared (8) at 128, @c (a splat of 4 f16s, 8 bytes) at 192, @r (a
// resource of 2 f32s, 8 bytes) at 256. @a is laid out once, though both
// entry points read it.
// Each entry point takes the arena first (its other arguments keep their
// attributes) and views each weight in it.
// The moved globals are gone but for @shared; the mutable one, the one
// without a value and the bit-packed i1 one (no whole bytes per element)
// stay, and are read as before.
// CHECK-LABEL: module {
// CHECK-NEXT: memref.global "private" constant @shared : memref<2xf32>
// CHECK-NEXT: memref.global "private" constant @helper_only : memref<2xf32>
// CHECK-NEXT: memref.global "private" @mutable : memref<2xf32>
// CHECK-NEXT: memref.global "private" constant @external : memref<2xf32>
// CHECK-NEXT: memref.global "private" constant @bits : memref<4xi1>
// CHECK-NEXT: func.func private @use
// CHECK: func.func @step_a(%[[ARENA:.*]]: memref<?xi8>, %[[OUT:.*]]: memref<3xf32> {llvm.noalias}) attributes {llvm.emit_c_interface} {
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[B:.*]] = memref.view %[[ARENA]][%[[C0]]][] : memref<?xi8> to memref<2xi8>
// CHECK-NEXT: %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[ARENA]][%[[C64]]][] : memref<?xi8> to memref<3xf32>
// CHECK-NEXT: %[[C128:.*]] = arith.constant 128 : index
// CHECK-NEXT: %[[S:.*]] = memref.view %[[ARENA]][%[[C128]]][] : memref<?xi8> to memref<2xf32>
// CHECK-NEXT: %[[M:.*]] = memref.get_global @mutable : memref<2xf32>
// CHECK-NEXT: %[[X:.*]] = memref.get_global @external : memref<2xf32>
// CHECK-NEXT: %[[BITS:.*]] = memref.get_global @bits : memref<4xi1>
// CHECK-NEXT: memref.copy %[[A]], %[[OUT]]
// CHECK-NEXT: call @use(%[[B]], %[[S]], %[[M]], %[[X]], %[[BITS]])
// CHECK: func.func @step_b(%[[ARENA:.*]]: memref<?xi8>, %[[OUT:.*]]: memref<4xf16>) attributes {llvm.emit_c_interface} {
// CHECK-NEXT: %[[C192:.*]] = arith.constant 192 : index
// CHECK-NEXT: %[[C:.*]] = memref.view %[[ARENA]][%[[C192]]][] : memref<?xi8> to memref<4xf16>
// CHECK-NEXT: %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[ARENA]][%[[C64]]][] : memref<?xi8> to memref<3xf32>
// CHECK-NEXT: scf.execute_region {
// CHECK-NEXT: %[[C256:.*]] = arith.constant 256 : index
// CHECK-NEXT: memref.view %[[ARENA]][%[[C256]]][] : memref<?xi8> to memref<2xf32>
// CHECK: memref.copy %[[C]], %[[OUT]]
// A declaration with the attribute has no body to read weights in; a
// function without it is not an entry point, so the global it reads stays
// (@shared is in the arena and stays a global as well).
// CHECK: func.func private @declared(memref<2xf32>) attributes {llvm.emit_c_interface}
// CHECK: func.func @helper() -> memref<2xf32> {
// CHECK-NEXT: memref.get_global @shared
// CHECK-NEXT: memref.get_global @helper_only
memref.global "private" constant @a : memref<3xf32> = dense<[1.0, 2.0, 3.0]>
memref.global "private" constant @b : memref<2xi8> = dense<[7, 8]>
memref.global "private" constant @c : memref<4xf16> = dense<1.0>
memref.global "private" constant @r : memref<2xf32> = dense_resource<r> {alignment = 64 : i64}
memref.global "private" constant @shared : memref<2xf32> = dense<[5.0, 6.0]>
memref.global "private" constant @helper_only : memref<2xf32> = dense<[9.0, 10.0]>
memref.global "private" @mutable : memref<2xf32> = dense<0.0>
memref.global "private" constant @external : memref<2xf32>
memref.global "private" constant @bits : memref<4xi1> = dense<[true, false, true, true]>
func.func private @use(memref<2xi8>, memref<2xf32>, memref<2xf32>, memref<2xf32>, memref<4xi1>)
func.func @step_a(%out: memref<3xf32> {llvm.noalias}) attributes {llvm.emit_c_interface} {
  %b = memref.get_global @b : memref<2xi8>
  %a = memref.get_global @a : memref<3xf32>
  %s = memref.get_global @shared : memref<2xf32>
  %m = memref.get_global @mutable : memref<2xf32>
  %x = memref.get_global @external : memref<2xf32>
  %bits = memref.get_global @bits : memref<4xi1>
  memref.copy %a, %out : memref<3xf32> to memref<3xf32>
  call @use(%b, %s, %m, %x, %bits) : (memref<2xi8>, memref<2xf32>, memref<2xf32>, memref<2xf32>, memref<4xi1>) -> ()
  return
}
func.func @step_b(%out: memref<4xf16>) attributes {llvm.emit_c_interface} {
  %c = memref.get_global @c : memref<4xf16>
  %a = memref.get_global @a : memref<3xf32>
  scf.execute_region {
    %r = memref.get_global @r : memref<2xf32>
    scf.yield
  }
  memref.copy %c, %out : memref<4xf16> to memref<4xf16>
  return
}
func.func private @declared(memref<2xf32>) attributes {llvm.emit_c_interface}
func.func @helper() -> memref<2xf32> {
  %s = memref.get_global @shared : memref<2xf32>
  %h = memref.get_global @helper_only : memref<2xf32>
  return %h : memref<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      r: "0x040000000000E0400000F040"
    }
  }
#-}

// Five 64-byte slots, zero-padded.
// SIZE: 320

// Each weight's bytes, little-endian, at the start of its slot and the rest
// zero: @b = 7, 8; @a = 1.0, 2.0, 3.0; @shared = 5.0, 6.0; @c = four f16
// 1.0 (0x3C00); @r = 7.0, 7.5.
// BYTES: {{^}} 07 08{{( 00){62}$}}
// BYTES-NEXT: {{^}} 00 00 80 3f 00 00 00 40 00 00 40 40{{( 00){52}$}}
// BYTES-NEXT: {{^}} 00 00 a0 40 00 00 c0 40{{( 00){56}$}}
// BYTES-NEXT: {{^}} 00 3c 00 3c 00 3c 00 3c{{( 00){56}$}}
// BYTES-NEXT: {{^}} 00 00 e0 40 00 00 f0 40{{( 00){56}$}}
// BYTES-NOT: {{.}}
