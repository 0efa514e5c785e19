

// expected-error @+1 {{unknown qpal attribute 'qpal.budget'}}
module attributes {qpal.budget = 3} {}

