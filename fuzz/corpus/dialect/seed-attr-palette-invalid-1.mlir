

// expected-error @+1 {{#qpal.palette lists #qpal.tcq<kv = 6> twice}}
module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, #qpal.sq<bits = 4>, #qpal.tcq<kv = 6, tlut_bits = 9>]>} {}

