// A model whose q and o weights have 2^62 rows or columns (hostile-inputs.test).
module {
  qpal.weight @q0 : tensor<4611686018427387904x256xf32>
  qpal.weight @k0 : tensor<64x256xf32>
  qpal.weight @v0 : tensor<64x256xf32>
  qpal.weight @o0 : tensor<256x4611686018427387904xf32>
  qpal.weight @gate0 : tensor<512x256xf32>
  qpal.weight @up0 : tensor<512x256xf32>
  qpal.weight @down0 : tensor<256x512xf32>
  func.func @huge(%x: tensor<?x256xf32>, %s: tensor<?x512xf32>, %h: tensor<?x4611686018427387904xf32>) {
    %q0 = qpal.linear %x, @q0 {block = 0, role = #qpal.role<q>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x4611686018427387904xf32>
    %k0 = qpal.linear %x, @k0 {block = 0, role = #qpal.role<k>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %v0 = qpal.linear %x, @v0 {block = 0, role = #qpal.role<v>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x64xf32>
    %o0 = qpal.linear %h, @o0 {block = 0, role = #qpal.role<o>, sensitivity = 0.01} : tensor<?x4611686018427387904xf32> -> tensor<?x256xf32>
    %gate0 = qpal.linear %x, @gate0 {block = 0, role = #qpal.role<gate>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %up0 = qpal.linear %x, @up0 {block = 0, role = #qpal.role<up>, sensitivity = 0.01} : tensor<?x256xf32> -> tensor<?x512xf32>
    %down0 = qpal.linear %s, @down0 {block = 0, role = #qpal.role<down>, sensitivity = 0.01} : tensor<?x512xf32> -> tensor<?x256xf32>
    return
  }
}
