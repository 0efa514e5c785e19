

// expected-error @+1 {{expected "lut", "1mad" or "3inst" for 'code' of #qpal.tcq, got '2mad'}}
func.func private @unknown_code() attributes {q = #qpal.tcq<kv = 6, code = "2mad">}

