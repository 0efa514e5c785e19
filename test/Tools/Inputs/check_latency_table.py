#!/usr/bin/env python3
"""Checks a `qpal profile` latency table against the model's shapes.

Usage: check_latency_table.py TABLE.json --hidden H --intermediate I
           --q-rows Q --kv-rows KV --palette NAME,... [--package]

Every (group, quantizer, kernel) of the palette must be either a positive
entry of `latency_s` or listed in `unpackable`, never both; every group's
recorded shape must be the one the dimensions give (computed here, not read
from qpal); spreads are non-negative. With --package, the constant must be
the measured step minus the priced products (0 when they exceed it).
Prints one line per entry, sorted, for FileCheck.
"""
import argparse
import json
import math
import sys

parser = argparse.ArgumentParser()
parser.add_argument("table")
parser.add_argument("--hidden", type=int, required=True)
parser.add_argument("--intermediate", type=int, required=True)
parser.add_argument("--q-rows", type=int, required=True)
parser.add_argument("--kv-rows", type=int, required=True)
parser.add_argument("--palette", required=True)
parser.add_argument("--package", action="store_true")
args = parser.parse_args()

h, i, q, kv = args.hidden, args.intermediate, args.q_rows, args.kv_rows
shapes = {
    "q": (q, h), "k": (kv, h), "v": (kv, h), "o": (h, q),
    "u": (i, h), "g": (i, h), "d": (h, i),
    "qk": (q + kv, h), "kv": (2 * kv, h), "qv": (q + kv, h),
    "qkv": (q + 2 * kv, h), "ug": (2 * i, h),
}
table = json.load(open(args.table))
errors = []
latency = table["latency_s"]
unpackable = {(entry["group"], entry["quantizer"])
              for entry in table.get("unpackable", [])}

for group, (rows, cols) in shapes.items():
    recorded = table.get("groups", {}).get(group)
    if recorded and (recorded["out_features"], recorded["in_features"]) != (rows, cols):
        errors.append(f"group {group}: shape {recorded['out_features']}x"
                      f"{recorded['in_features']}, expected {rows}x{cols}")

lines = []
for name in args.palette.split(","):
    kind = "SIMT" if name.endswith(":simt") else "TC"
    base = name[:-len(":simt")] if kind == "SIMT" else name
    for group in shapes:
        seconds = latency.get(group, {}).get(base, {}).get(kind)
        listed = (group, name) in unpackable
        if seconds is None and not listed:
            errors.append(f"{group} {name}: neither an entry nor unpackable")
        if seconds is not None and listed:
            errors.append(f"{group} {name}: an entry and unpackable")
        if seconds is not None:
            if not (seconds > 0 and math.isfinite(seconds)):
                errors.append(f"{group} {name}: {seconds} is not positive")
            spread = table["spread"][group][base][kind]
            if not spread >= 0:
                errors.append(f"{group} {name}: spread {spread}")
            lines.append(f"entry {group} {name}")
        else:
            lines.append(f"unpackable {group} {name}")

measured = table["measured"]
if args.package:
    step, products = measured["step_seconds"], measured["products_seconds"]
    if abs(table["constant_s"] - max(0.0, step - products)) > 1e-12 * max(1.0, step):
        errors.append("constant_s is not max(0, step_seconds - products_seconds)")
    if not (step > 0 and products > 0):
        errors.append("the step and its products must take time")
    samples = sorted(measured["step_seconds_samples"])
    if samples[len(samples) // 2] != step and len(samples) % 2:
        errors.append("step_seconds is not the median of its samples")

for line in sorted(lines):
    print(line)
if errors:
    print("\n".join("error: " + e for e in errors), file=sys.stderr)
    sys.exit(1)
print("latency table ok")
