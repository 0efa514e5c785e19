"""The per-layer error model of `qpal allocate --layer-errors`, written
again in Python from its description (lib/Alloc/LayerErrors.h), for the
tests and the fit report to check qpal against.

A `qpal layer-errors` file measures err_l(q) on every layer for a few
quantizers. Another quantizer of the same class (same family and rounding;
TCQ and tcomb together) is its Gaussian error (the reference's
quantizer_distortion.json; `hess` names read as their `none` twins) times
the measured ratio err_l / gaussian, interpolated linearly in log over bits
per weight between the measured rates next to it and held beyond them. A
data-free quantizer of an unmeasured class keeps its Gaussian error.
"""
import math

# f16 rounding: a uniform relative error of half an ulp (2^-11).
F16_ERROR = 2.0 ** -22 / 3


def bits(name):
    """Code bits per weight of a reference name."""
    base = name.split(":")[0].split("_")
    if base[0] == "ldlq":
        return int(base[2]) / int(base[1])
    if base[0] == "tcq":
        return int(base[1]) / 2
    if base[0] == "tcomb":
        return (int(base[1]) + int(base[2])) / 4
    raise ValueError(f"no rate for '{name}'")


def error_class(name):
    """What the model interpolates within: (family, rounds with LDLQ)."""
    base = name.split(":")[0].split("_")
    family = "trellis" if base[0] in ("tcq", "tcomb") else base[0] + base[1]
    return family, "hess" in base


def gaussian(name, table):
    """err(q) on a Gaussian source; `table` is normalized_mse."""
    if name == "f16":
        return F16_ERROR
    return table[name.split(":")[0].replace("_hess_", "_none_")]


def layer_error(layers, name, key, table, known=None):
    """err_l(q) of quantizer `name` in layer `key`; `layers` is the file's
    `layers` object and `known` the measured names to use (all of them by
    default)."""
    if name == "f16":
        return F16_ERROR
    known = list(layers) if known is None else known
    by_canonical = {n.split(":")[0]: n for n in known}
    if name.split(":")[0] in by_canonical:
        return layers[by_canonical[name.split(":")[0]]][key]["error"]
    same = sorted((bits(n), n) for n in known
                  if error_class(n) == error_class(name))
    if not same:
        if error_class(name)[1]:
            raise ValueError(f"nothing measured prices '{name}'")
        return gaussian(name, table)
    b = bits(name)
    (low_bits, low), (high_bits, high) = (
        ([x for x in same if x[0] <= b] or same[:1])[-1],
        ([x for x in same if x[0] >= b] or same[-1:])[0])

    def log_ratio(n):
        return math.log(layers[n][key]["error"] / gaussian(n, table))

    weight = (b - low_bits) / (high_bits - low_bits) if high_bits > low_bits else 0.0
    return gaussian(name, table) * math.exp(
        log_ratio(low) + weight * (log_ratio(high) - log_ratio(low)))
