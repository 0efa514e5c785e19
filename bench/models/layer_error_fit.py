"""How well the per-layer error model of `qpal allocate --layer-errors`
predicts rates it did not see, and how far the data-free Gaussian errors
are from the measured ones.

For each held-out quantizer of a `qpal layer-errors` file, the others of its
class model it as the allocator does (lib/Alloc/LayerErrors.cpp: the
Gaussian error times the measured ratio, interpolated linearly in log over
bits per weight, held beyond the measured rates), and the prediction is
compared with the measurement layer by layer and in MSQ's objective
sum_l a_l err_l. Prints a markdown table.

usage: layer_error_fit.py ERRORS.json --hold-out Q1,Q2 --sensitivity S.json
                          --distortion quantizer_distortion.json
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts", "oracle"))
from layer_error_model import bits, gaussian, layer_error  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("errors")
parser.add_argument("--hold-out", required=True)
parser.add_argument("--sensitivity", required=True)
parser.add_argument("--distortion", required=True)
args = parser.parse_args()

layers = json.load(open(args.errors))["layers"]
a = json.load(open(args.sensitivity))["coefficients"]
table = json.load(open(args.distortion))["normalized_mse"]


held = args.hold_out.split(",")
known = [n for n in layers if n not in held]
print("| held out | bits | from | per-layer error of the model: median / p90 / max | "
      "objective: model vs measured | Gaussian err(q) vs measured, per layer: median / max | "
      "objective: Gaussian vs measured |")
print("|---|---:|---|---|---|---|---|")
for name in held:
    keys = sorted(layers[name])
    measured = {k: layers[name][k]["error"] for k in keys}
    model = {k: layer_error(layers, name, k, table, known) for k in keys}
    relative = sorted(abs(model[k] / measured[k] - 1) for k in keys)
    flat_error = gaussian(name, table)
    gauss = sorted(abs(flat_error / measured[k] - 1) for k in keys)
    objective = sum(a[k] * measured[k] for k in keys)
    predicted = sum(a[k] * model[k] for k in keys)
    flat = sum(a[k] * flat_error for k in keys)
    p90 = relative[int(0.9 * (len(relative) - 1))]
    print(f"| {name} | {bits(name):.2f} | {', '.join(sorted(known, key=bits))} | "
          f"{100 * statistics.median(relative):.1f}% / {100 * p90:.1f}% / "
          f"{100 * relative[-1]:.1f}% | {100 * (predicted / objective - 1):+.1f}% | "
          f"{100 * statistics.median(gauss):.0f}% / {100 * gauss[-1]:.0f}% | "
          f"{100 * (flat / objective - 1):+.0f}% |")
