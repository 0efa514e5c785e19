#!/usr/bin/env python3
"""Writes qpal's own Llama-3.1-8B latency table from a run of run_device.sh.

The schema is the reference's (shared/reference/data/
llama31_8b_latency_rtx4090.json, read by `qpal allocate --latency-table`):
latency_s[group][quantizer][kind] is the time of one batch-1 call of qpal's
kernel for that group's (fused) shape, from the run's benches.jsonl
(`make_kernels.py --only latency`: every palette member at every group
shape). kind TC is the tensor-core kernel of QUANTIZER, SIMT the kernel of
QUANTIZER:simt. constant_s is the run's torch.json "llama8b_rest_of_step":
everything of a decode step but the linears, in fp16 PyTorch ops.

Every (group, quantizer, kind) the run timed goes in; a palette member
without one of the group shapes is an error that names it.
"""
import argparse
import json
import os
import sys


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the run's output folder")
    parser.add_argument("--reference", required=True,
                        help="llama31_8b_latency_rtx4090.json (groups, schema)")
    parser.add_argument("--gpu", required=True, help="the GPU's name")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    reference = json.load(open(args.reference))
    torch = json.load(open(os.path.join(args.run, "torch.json")))
    rest = torch.get("llama8b_rest_of_step")
    if not rest:
        sys.exit("latency_table: the run has no llama8b_rest_of_step")
    times = {}
    for row in read_jsonl(os.path.join(args.run, "benches.jsonl")):
        if row["mode"] == "bench" and row["batch"] == 1 and row["variant"] == "default":
            times[(row["quantizer"], row["rows"], row["cols"])] = row["microseconds"]
    quantizers = sorted({q for (q, _, _) in times})
    latency, missing = {}, []
    for group, shape in reference["groups"].items():
        rows, cols = shape["out_features"], shape["in_features"]
        entries = latency.setdefault(group, {})
        for name in quantizers:
            simt = name.endswith(":simt")
            key = name[:-len(":simt")] if simt else name
            us = times.get((name, rows, cols))
            if us is None:
                missing.append("%s %dx%d" % (name, rows, cols))
                continue
            entries.setdefault(key, {})["SIMT" if simt else "TC"] = us * 1e-6
    if missing:
        sys.exit("latency_table: no timing for " + ", ".join(missing[:10]) +
                 (" and %d more" % (len(missing) - 10) if len(missing) > 10 else ""))
    table = {
        "description": "qpal's kernels on %s: Llama-3.1-8B decoding at batch 1, "
                       "one entry per (fusion group, quantizer, kernel kind), "
                       "timed by bench/gpu/run_device.sh (qpal-gpu-kernels: CUDA "
                       "graph replay over rotating copies of the codes, median of "
                       "3); written by bench/gpu/latency_table.py" % args.gpu,
        "model": reference["model"],
        "gpu": args.gpu,
        "units": reference["units"],
        "model_formula": reference["model_formula"],
        "constant_s": rest["microseconds"] * 1e-6,
        "constant_note": "measured: one decode step of Llama-3.1-8B without its "
                         "linears (embedding row, RMSNorms, RoPE, KV-cache write, "
                         "GQA attention over a %d-token cache, SwiGLU, residual "
                         "adds, final norm, fp16 LM head) as fp16 PyTorch ops in "
                         "one CUDA graph (bench/gpu/torch_baseline.py); the "
                         "activation rotations are not in it" % rest["context"],
        "groups": reference["groups"],
        "latency_s_layout": reference["latency_s_layout"],
        "latency_s": latency,
    }
    with open(args.output + ".part", "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(args.output + ".part", args.output)
    print("%s: %d groups x %d quantizers, constant %.1f us" % (
        args.output, len(latency), len(quantizers), rest["microseconds"]))


if __name__ == "__main__":
    main()
