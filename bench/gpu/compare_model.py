#!/usr/bin/env python3
# ===- compare_model.py - The GPU's packages against their CPU twins -----=== #
#
# Part of the qpal project, under the Apache License v2.0 with LLVM
# Exceptions. See LICENSE for license information.
#
# ===------------------------------------------------------------------=== #
#
# Compares what bench/gpu/run_model.sh measured on the GPU (RUN) with what
# bench/gpu/prepare_model.sh recorded from the CPU twins (DIR/expected):
# perplexity within 1e-4 relative (the products sum in another order) and
# the greedy tokens; prints a Markdown table with the GPU's decode speed.
#
#   compare_model.py RUN [--dir .device-model]
#
# ===------------------------------------------------------------------=== #

import argparse
import json
import pathlib
import sys

parser = argparse.ArgumentParser()
parser.add_argument("run", type=pathlib.Path)
parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(".device-model"))
args = parser.parse_args()

failed = False
print("| package | CPU perplexity | GPU perplexity | relative difference "
      "| greedy tokens | GPU prefill tok/s | GPU decode tok/s |")
print("|---|---:|---:|---:|---|---:|---:|")
for expected in sorted((args.dir / "expected").glob("*.json")):
    name = expected.stem
    cpu = json.loads(expected.read_text())["perplexity"]
    try:
        gpu = json.loads((args.run / f"{name}.json").read_text())["perplexity"]
        bench = json.loads((args.run / f"{name}.bench.json").read_text())
    except (OSError, ValueError, KeyError) as error:
        print(f"| {name} | {cpu:.6f} | (no result: {error}) | | | | |")
        failed = True
        continue
    if not isinstance(gpu, (int, float)):
        print(f"| {name} | {cpu:.6f} | {gpu} (not a number) | | | | |")
        failed = True
        continue
    difference = abs(gpu - cpu) / cpu
    same = ((args.dir / "expected" / f"{name}.tokens").read_text() ==
            (args.run / f"{name}.tokens").read_text())
    failed |= difference > 1e-4 or not same
    print(f"| {name} | {cpu:.6f} | {gpu:.6f} | {difference:.1e} "
          f"| {'same' if same else 'DIFFER'} "
          f"| {bench['prefill_tokens_per_second']:.0f} "
          f"| {bench['decode_tokens_per_second']:.0f} |")
sys.exit(1 if failed else 0)
