// RUN: qpal-opt %s -split-input-file -verify-diagnostics -qpal-assign-quantizer="quantizer=tcq_6_none_0.9"
// RUN: not qpal-opt %s -qpal-assign-quantizer="quantizer=tcq_11_none_0.9" 2>&1 | FileCheck %s --check-prefix=BADNAME
// RUN: not qpal-opt %s -qpal-assign-quantizer 2>&1 | FileCheck %s --check-prefix=NONAME
// RUN: not qpal-opt %s -qpal-assign-quantizer="quantizer=tcq_6_none_0.9 fallback=tcq_11_none_0.9" 2>&1 | FileCheck %s --check-prefix=BADFALLBACK
// RUN: not qpal-opt %s -qpal-assign-quantizer="quantizer=tcq_6_none_0.9 fallback=tcq_8_none_0.9" 2>&1 | FileCheck %s --check-prefix=NOFIT

// BADNAME: error: quantizer 'tcq_11_none_0.9': KV must be in [2, 10], got 11
// NONAME: error: qpal-assign-quantizer expects the 'quantizer' option (a name such as tcq_6_none_0.9)

// A fallback is named like the quantizer, and a bad name is refused before
// any layer is looked at.
// BADFALLBACK: error: bad fallback: quantizer 'tcq_11_none_0.9': KV must be in [2, 10], got 11

// A fallback must be able to pack the layers it is given: tcq_8 tiles M by
// 32 rows as tcq_6 does, so the 100-row weight below takes neither. The
// error names the fallback and the rule it breaks, and no layer is said to
// take it.
// NOFIT-NOT: remark:
// NOFIT: error: 'qpal.linear' op cannot take tcq_8_none_0.9: expects M divisible by 32 for tcq_8_none_0.9, got 100

// A 100-row weight does not tile into 32 x 32 supertiles.
qpal.weight @w : tensor<100x64xf32>
func.func @untileable(%x: tensor<?x64xf32>) -> tensor<?x100xf32> {
  // expected-error @+1 {{'qpal.linear' op cannot take tcq_6_none_0.9: expects M divisible by 32 for tcq_6_none_0.9, got 100}}
  %0 = qpal.linear %x, @w : tensor<?x64xf32> -> tensor<?x100xf32>
  return %0 : tensor<?x100xf32>
}
