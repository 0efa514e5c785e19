

func.func @yield_outside(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'qpal.yield' op expects parent op 'qpal.fusion_group'}}
  qpal.yield %x : tensor<?x64xf32>
}
