

module {
  // expected-error @+1 {{'qpal.palette' may only be attached to a module}}
  func.func private @f() attributes {qpal.palette = #qpal.palette<[#qpal.f16]>}
}

