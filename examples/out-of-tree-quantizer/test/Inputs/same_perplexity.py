"""Checks that two `qpal eval --json` reports have the same perplexity to
float32 rounding (relative difference below 1e-5) and that it is finite."""
import json
import math
import sys

a = json.load(open(sys.argv[1]))["perplexity"]
b = json.load(open(sys.argv[2]))["perplexity"]
assert math.isfinite(a) and math.isfinite(b) and a > 1, (a, b)
assert abs(a - b) <= 1e-5 * a, (a, b)
print("same perplexity: %.6f %.6f (relative difference %.1e)" % (a, b, abs(a - b) / a))
