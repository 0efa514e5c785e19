#!/usr/bin/env python3
"""Writes bench/results/gpu-kernels-<gpu>.md from a run of run_device.sh.

Reads, from the run's output folder: smi.txt, torch.json (copy bandwidth and
fp16 cuBLAS GEMV), checks.jsonl and benches.jsonl (qpal-gpu-kernels), and
runtime-tests.log.
"""
import argparse
import collections
import json
import os
import re


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def family(name):
    simt = name.endswith(":simt")
    base = name.split(":")[0]
    if base.startswith("tcomb"):
        fam = "tcq_split"
    elif base.startswith("tcq"):
        fam = "tcq"
    elif base.startswith("ldlq_2"):
        fam = "vq"
    else:
        fam = "sq"
    return fam + ("_simt" if simt else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the run's output folder")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--notes", default="", help="markdown appended at the end")
    args = parser.parse_args()
    torch = json.load(open(os.path.join(args.run, "torch.json")))
    rows = (read_jsonl(os.path.join(args.run, "checks.jsonl")) +
            read_jsonl(os.path.join(args.run, "benches.jsonl")))
    unique = {json.dumps(r, sort_keys=True): r for r in rows}
    checks = [r for r in unique.values() if r["mode"] == "check"]
    benches = [r for r in unique.values() if r["mode"] == "bench"]
    smi = open(os.path.join(args.run, "smi.txt")).read().strip().splitlines()
    runtime = ""
    path = os.path.join(args.run, "runtime-tests.log")
    if os.path.exists(path):
        runtime = " ".join(re.findall(r"^\[  (?:PASSED|FAILED|SKIPPED)  \].*$",
                                      open(path).read(), re.M))
    copy = torch["copy_gbps"]
    fp16 = {(g["rows"], g["cols"], g["batch"]): g for g in torch["gemv"]}

    out = []
    out.append("# qpal's generated GPU kernels on %s" % torch["device"])
    out.append("")
    out.append("Kernels: `qpal kernel --target nvptx --chip sm_90` (MLIR gpu/nvvm "
               "-> LLVM NVPTX -> ptxas, compiled on the CPU machine), loaded as "
               "cubins and launched by the qpal runtime (CUDA driver API) from "
               "`qpal-gpu-kernels`, which has no MLIR or LLVM. Reproduce: "
               "`bench/gpu/prepare_device.sh` here, `bench/gpu/run_device.sh` "
               "on the GPU machine, then `bench/gpu/report.py`.")
    out.append("")
    out.append("GPU (nvidia-smi at the start, clocks as found, never changed):")
    out.append("")
    out.append("```")
    out.extend(smi)
    out.append("```")
    out.append("")
    out.append("- Measured DRAM bandwidth: device-to-device copy of 1 GiB, "
               "**%.0f GB/s** (bytes read + written; PyTorch %s, CUDA %s)."
               % (copy, torch["torch"], torch["cuda"]))
    out.append("- fp16 baseline: `torch.matmul(x, W.t())`, W fp16 (cuBLAS), same "
               "rotation and graph replay as our kernels.")
    out.append("- Timing: each kernel is captured with enough copies of its codes "
               "to read over 4x the L2 per round, in a CUDA graph, replayed for "
               "about 20 ms; the median of 5. GB/s counts the weight storage "
               "read (codes + row scales), `QuantizerSpec::storageBytes`.")
    if runtime:
        out.append("- The runtime's own GPU tests (`RuntimeTests`): %s" % runtime)
    out.append("")

    out.append("## Correctness")
    out.append("")
    out.append("Every kernel ran on fresh seeded random data (random codes, "
               "normal activations, a random initial y) and was compared with "
               "lib/Quant's decode and a float64 product: max |y - y_ref| / "
               "max |y_ref - y0| must be < 1e-3 (activations are rounded to "
               "fp16 for mma.sync).")
    out.append("")
    out.append("| family | variant | kernels | failed | worst max rel err |")
    out.append("|---|---|---|---|---|")
    tally = collections.OrderedDict()
    for c in checks:
        key = (family(c["quantizer"]), c["variant"])
        t = tally.setdefault(key, [0, 0, 0.0])
        t[0] += 1
        t[1] += 0 if c["ok"] else 1
        err = c["max_rel_err"]
        t[2] = max(t[2], err) if err == err else float("nan")
    for (fam, variant), (n, failed, worst) in sorted(tally.items()):
        out.append("| %s | %s | %d | %d | %.2e |" % (fam, variant, n, failed, worst))
    shapes = sorted({(c["rows"], c["cols"]) for c in checks})
    out.append("")
    out.append("Shapes: %s; batch 1, 3 and 8." % ", ".join("%dx%d" % s for s in shapes))
    out.append("")

    default = [b for b in benches if b["variant"] == "default"]
    bench_shapes = sorted({(b["rows"], b["cols"]) for b in default},
                          key=lambda s: (s[0] * s[1], s))
    for rows, cols in bench_shapes:
        out.append("## %d x %d (M x K)" % (rows, cols))
        out.append("")
        row_fp16 = [fp16.get((rows, cols, n)) for n in (1, 8)]
        out.append("fp16 cuBLAS: batch 1 %.2f us (%.0f GB/s, %.0f%% of copy), "
                   "batch 8 %.2f us (%.0f GB/s)." % (
                       row_fp16[0]["microseconds"], row_fp16[0]["gbps"],
                       100 * row_fp16[0]["gbps"] / copy,
                       row_fp16[1]["microseconds"], row_fp16[1]["gbps"]))
        out.append("")
        out.append("| quantizer | bits/w | b1 us | b1 GB/s | b1 % of copy | b1 vs fp16 "
                   "| b8 us | b8 GB/s | b8 % of copy | b8 vs fp16 |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        by_name = collections.OrderedDict()
        for b in default:
            if (b["rows"], b["cols"]) == (rows, cols):
                by_name.setdefault(b["quantizer"], {})[b["batch"]] = b
        for name, per_batch in by_name.items():
            any_b = next(iter(per_batch.values()))
            bits = 8 * any_b["storage_bytes"] / (rows * cols)
            cells = []
            for n in (1, 8):
                b = per_batch.get(n)
                if not b:
                    cells += ["-"] * 4
                    continue
                cells += ["%.2f" % b["microseconds"], "%.0f" % b["gbps"],
                          "%.0f%%" % (100 * b["gbps"] / copy),
                          "%.2fx" % (fp16[(rows, cols, n)]["microseconds"] /
                                     b["microseconds"])]
            out.append("| %s | %.2f | %s |" % (name, bits, " | ".join(cells)))
        out.append("")

    variants = [b for b in benches]
    names = sorted({b["quantizer"] for b in benches if b["variant"] != "default"})
    if names:
        out.append("## Variants (same kernels, one choice changed)")
        out.append("")
        out.append("`default`: mma.sync.m16n8k16, 2 supertiles decoded per "
                   "iteration, codebook in shared memory; `fma`: CUDA-core "
                   "FMAs instead of mma.sync; `unroll1`: one supertile per "
                   "iteration. Microseconds per call.")
        out.append("")
        out.append("| quantizer | M x K | batch | default | fma | unroll1 |")
        out.append("|---|---|---|---|---|---|")
        table = {}
        for b in variants:
            if b["quantizer"] in names:
                table.setdefault((b["quantizer"], b["rows"], b["cols"], b["batch"]),
                                 {})[b["variant"]] = b["microseconds"]
        for (name, rows, cols, batch), v in sorted(table.items()):
            out.append("| %s | %dx%d | %d | %s |" % (
                name, rows, cols, batch, " | ".join(
                    "%.2f" % v[k] if k in v else "-"
                    for k in ("default", "fma", "unroll1"))))
        out.append("")
    if args.notes:
        out.append(open(args.notes).read().rstrip())
        out.append("")
    with open(args.output + ".part", "w") as f:
        f.write("\n".join(out))
    os.replace(args.output + ".part", args.output)


if __name__ == "__main__":
    main()
