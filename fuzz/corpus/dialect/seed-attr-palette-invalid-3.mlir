

// expected-error @+1 {{'qpal.palette' must be a #qpal.palette, got #qpal.tcq<kv = 6>}}
module attributes {qpal.palette = #qpal.tcq<kv = 6>} {}

