"""Checks `qpal palette --measure --json` of usq quantizers against the MSE
of the optimal uniform quantizer of N(0, 1), computed here from first
principles in float64: for 2^b levels (i + 1/2 - 2^(b-1)) * step, the MSE
is a sum of closed-form Gaussian integrals, minimized over the step by
golden-section search (it is unimodal in the step). Max (1960, table II)
tabulated the same optimum."""
import json
import math
import sys


def phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0


def Phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def cell(a, b, c):
    """Integral over [a, b] of (x - c)^2 phi(x) dx."""
    def f(x):
        xphi = x * phi(x) if math.isfinite(x) else 0.0
        return (1 + c * c) * Phi(x) - xphi + 2 * c * phi(x)
    return f(b) - f(a)


def mse(levels, step):
    total = 0.0
    for i in range(levels):
        c = (i + 0.5 - levels / 2) * step
        a = -math.inf if i == 0 else c - step / 2
        b = math.inf if i == levels - 1 else c + step / 2
        total += cell(a, b, c)
    return total


def optimal_mse(bits):
    levels = 2 ** bits
    lo, hi = 1e-4, 4.0
    g = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if mse(levels, m1) < mse(levels, m2):
            hi = m2
        else:
            lo = m1
    return mse(levels, (lo + hi) / 2)


failed = False
for entry in json.load(open(sys.argv[1])):
    bits = int(entry["bits"])
    expected = optimal_mse(bits)
    measured = entry["distortion"]
    diff = measured / expected - 1
    ok = abs(diff) < 0.02
    failed |= not ok
    print("%s measured %.4e optimum %.4e (%+.2f%%) %s"
          % (entry["name"], measured, expected, 100 * diff, "ok" if ok else "FAILED"))
sys.exit(1 if failed else 0)
