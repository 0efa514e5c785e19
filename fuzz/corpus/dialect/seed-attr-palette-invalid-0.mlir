
// expected-error @+1 {{#qpal.palette expects at least one quantizer}}
module attributes {qpal.palette = #qpal.palette<[]>} {}

