

// expected-error @+2 {{failed to parse QPal_LinearRoleAttr parameter 'value'}}
// expected-error @+1 {{expected ::qpal::LinearRole to be one of: q, k, v, o, gate, up, down}}
func.func private @bad_role() attributes {r = #qpal.role<out>}
