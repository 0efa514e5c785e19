"""Checks `qpal allocate --json` output: the keys, the plan and the budgets.

usage: check_allocate_json.py PLAN.json [--objective X] [--max-bits B]
                              [--min-tokens-per-second T] [--fused | --unfused]
"""
import argparse
import json
import math
import re

parser = argparse.ArgumentParser()
parser.add_argument("plan")
parser.add_argument("--objective", type=float)
parser.add_argument("--max-bits", type=float)
parser.add_argument("--min-tokens-per-second", type=float)
parser.add_argument("--fused", action="store_true")
parser.add_argument("--unfused", action="store_true")
args = parser.parse_args()

plan = json.load(open(args.plan))
for key in ("status", "objective", "bound", "gap", "avg_bits", "avg_bits_full",
            "memory_model", "memory_bytes", "budget", "solver", "model",
            "plan", "fusion", "palette", "inputs"):
    assert key in plan, f"missing key '{key}'"
assert plan["status"] == "optimal", plan["status"]
assert 0 <= plan["bound"] <= plan["objective"] * (1 + 1e-12)

# 32 blocks x 7 layers, each mapped to a palette member by its reference name.
layer_key = re.compile(r"^(\d+)_(self_attn\.(q|k|v|o)|mlp\.(gate|up|down))_proj$")
assert len(plan["plan"]) == 224, len(plan["plan"])
for key, quantizer in plan["plan"].items():
    assert layer_key.match(key), key
    assert quantizer in plan["palette"], (key, quantizer)
assert sorted(plan["fusion"], key=int) == [str(b) for b in range(32)]

# Fused members share one quantizer (and kernel).
names = {"q": "self_attn.q", "k": "self_attn.k", "v": "self_attn.v",
         "up": "mlp.up", "gate": "mlp.gate"}
for block, groups in plan["fusion"].items():
    for group in groups:
        chosen = {plan["plan"][f"{block}_{names[m]}_proj"]
                  for m in (["up", "gate"] if group == "ug" else list(group))}
        assert len(chosen) == 1, (block, group, chosen)

if args.objective is not None:
    # Four significant digits.
    assert math.isclose(plan["objective"], args.objective, rel_tol=5e-5), \
        (plan["objective"], args.objective)
if args.max_bits is not None:
    bits = plan["avg_bits_full" if plan["memory_model"] == "full" else "avg_bits"]
    assert plan["avg_bits"] <= args.max_bits, plan["avg_bits"]
    assert bits <= args.max_bits, bits
if args.min_tokens_per_second is not None:
    tokens = plan["predicted_tokens_per_second"]
    assert tokens >= args.min_tokens_per_second * (1 - 1e-9), tokens
fused = sum(len(groups) for groups in plan["fusion"].values())
if args.fused:
    assert fused > 0, "expected fusion groups"
if args.unfused:
    assert fused == 0, f"expected no fusion groups, got {fused}"
print("allocate json ok")
