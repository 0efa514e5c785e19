

// Only quantizers belong in a palette.
// expected-error @+1 {{expected a quantizer attribute in #qpal.palette, got 3 : i32}}
module attributes {qpal.palette = #qpal.palette<[#qpal.tcq<kv = 6>, 3 : i32]>} {}

