"""Checks `qpal layer-errors` output and, with --plan, recomputes the MSQ
objective of a `qpal allocate --json` plan from it with the model written
again in Python (scripts/oracle/layer_error_model.py).

usage: check_layer_errors.py ERRORS.json --blocks N --lower-with-hess A,B
         [--plan PLAN.json --sensitivity S.json --distortion D.json]
"""
import argparse
import json
import math
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("errors")
parser.add_argument("--blocks", type=int, required=True)
parser.add_argument("--lower-with-hess", default="",
                    help="HESS,NONE: the hess quantizer's total proxy error "
                         "must be below the none one's")
parser.add_argument("--plan")
parser.add_argument("--sensitivity")
parser.add_argument("--distortion")
args = parser.parse_args()

data = json.load(open(args.errors))
assert data["format"] == "qpal-layer-errors" and data["version"] == 1, data
projections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
               "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
               "mlp.down_proj"]
keys = [f"{b}_{p}" for b in range(args.blocks) for p in projections]
layers = data["layers"]
for name, per_layer in layers.items():
    assert sorted(per_layer) == sorted(keys), (name, sorted(per_layer))
    storable = {k: e for k, e in per_layer.items() if "unstorable" not in e}
    assert storable, name
    assert data["summary"][name]["layers_measured"] == len(storable)
    for key, entry in storable.items():
        for field in ("error", "relative_proxy", "relative_mse"):
            assert entry[field] > 0 and math.isfinite(entry[field]), \
                (name, key, field, entry)
    summary = data["summary"][name]
    errors = [entry["error"] for entry in storable.values()]
    assert math.isclose(summary["mean_error"], sum(errors) / len(errors),
                        rel_tol=1e-12), summary
    assert summary["min_error"] == min(errors) and \
        summary["max_error"] == max(errors), summary
    assert data["encode_seconds"][name] >= 0


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "scripts", "oracle"))
from layer_error_model import bits, error_class, layer_error  # noqa: E402

mean = {name: data["summary"][name]["mean_error"] for name in layers}
# Fewer bits, more error.
for a in layers:
    for b in layers:
        if error_class(a) == error_class(b) and bits(a) < bits(b):
            assert mean[a] > mean[b], (a, mean[a], b, mean[b])
if args.lower_with_hess:
    hess, none = args.lower_with_hess.split(",")
    total = {n: sum(e.get("relative_proxy", 0) for e in layers[n].values())
             for n in (hess, none)}
    assert total[hess] < total[none], total
    print(f"LDLQ lowers the proxy error: {total[hess]:.6g} < {total[none]:.6g}")
unstorable = sorted({k for n in layers for k, e in layers[n].items()
                     if "unstorable" in e})
print(f"{len(layers)} quantizers x {len(keys)} layers; unstorable: "
      f"{', '.join(unstorable) or 'none'}")

if args.plan:
    plan = json.load(open(args.plan))
    a = json.load(open(args.sensitivity))["coefficients"]
    table = json.load(open(args.distortion))["normalized_mse"]

    objective = sum(a[key] * layer_error(layers, name, key, table)
                    for key, name in plan["plan"].items())
    assert math.isclose(objective, plan["objective"], rel_tol=1e-9), \
        (objective, plan["objective"])
    assert plan["inputs"]["layer_errors"].endswith(".json"), plan["inputs"]
    used = sorted(set(plan["plan"].values()))
    print(f"objective {objective:.6g} recomputed; plan uses {', '.join(used)}")
