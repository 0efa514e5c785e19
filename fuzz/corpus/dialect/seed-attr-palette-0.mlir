
// A palette mixes every family, including the unquantized f16.
// CHECK: module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, #qpal.tcq_split<kv1 = 6, kv2 = 7>, #qpal.vq<bits = 6>, #qpal.vq<bits = 6, kernel = simt>, #qpal.sq<bits = 4>, #qpal.f16]>}
module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, #qpal.tcq_split<kv1 = 6, kv2 = 7>, #qpal.vq<bits = 6>, #qpal.vq<bits = 6, kernel = simt>, #qpal.sq<bits = 4>, #qpal.f16]>} {
  // CHECK: func.func private @roles() attributes {a = #qpal.role<q>, b = #qpal.role<down>}
  func.func private @roles() attributes {a = #qpal.role<q>, b = #qpal.role<down>}
}
