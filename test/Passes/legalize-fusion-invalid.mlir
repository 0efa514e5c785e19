// RUN: not qpal-opt %s -qpal-legalize-fusion="allowed-groups=qkv,gu" 2>&1 | FileCheck %s

// CHECK: error: unknown group kind 'gu' in allowed-groups, expected qk, kv, qv, qkv or ug
module {}
