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
    base, _, code = name.partition(":")
    if base.startswith("tcomb"):
        fam = "tcq_split"
    elif base.startswith("tcq"):
        fam = "tcq"
    elif base.startswith("ldlq_2"):
        fam = "vq"
    else:
        fam = "sq"
    if code and not simt:
        fam += "_" + code  # the computed trellis codes: tcq_3inst, ...
    return fam + ("_simt" if simt else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the run's output folder")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--json", default="",
                        help="also write one object per timed kernel (quantizer, "
                             "rows, cols, batch, us, gbps, fraction_of_read, "
                             "speedup_vs_fp16)")
    parser.add_argument("--notes", default="", help="markdown appended at the end")
    parser.add_argument("--chosen", default="",
                        help="FAMILY=VARIANT,...: the grid variant the compiler "
                             "now chooses per family (default: 'default')")
    args = parser.parse_args()
    torch = json.load(open(os.path.join(args.run, "torch.json")))
    # run_device.sh puts the variants' rows (checks and timings) in both
    # files: take the checks from one and the timings from the other.
    checks = [r for r in read_jsonl(os.path.join(args.run, "checks.jsonl"))
              if r["mode"] == "check"]
    benches = [r for r in read_jsonl(os.path.join(args.run, "benches.jsonl"))
               if r["mode"] == "bench"]
    smi = open(os.path.join(args.run, "smi.txt")).read().strip().splitlines()
    runtime = ""
    path = os.path.join(args.run, "runtime-tests.log")
    if os.path.exists(path):
        runtime = " ".join(re.findall(r"^\[  (?:PASSED|FAILED|SKIPPED)  \].*$",
                                      open(path).read(), re.M))
    copy = torch["copy_gbps"]
    read = torch.get("read_gbps", copy)
    chosen = dict(item.split("=") for item in args.chosen.split(",") if item)
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
    out.append("- Measured DRAM bandwidth: reading 1 GiB (a sum), **%.0f GB/s**; "
               "a device-to-device copy of 1 GiB, %.0f GB/s (bytes read + "
               "written). \"%% of read\" below is against the first, the "
               "pattern of a GEMV (PyTorch %s, CUDA %s)."
               % (read, copy, torch["torch"], torch["cuda"]))
    out.append("- fp16 baseline: `torch.matmul(x, W.t())`, W fp16 (cuBLAS), same "
               "rotation and graph replay as our kernels.")
    out.append("- Timing: each kernel is captured with enough copies of its codes "
               "to read over 4x the L2 per round, in a CUDA graph, replayed for "
               "about 10 ms; the median of 3. GB/s counts the weight storage "
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
    check_batches = sorted({c["batch"] for c in checks})
    out.append("Shapes: %s; batch %s." % (", ".join("%dx%d" % s for s in shapes),
                                          ", ".join(map(str, check_batches))))
    out.append("")

    def is_chosen(b):
        return b["variant"] == chosen.get(family(b["quantizer"]), "default")

    default = [b for b in benches if is_chosen(b)]
    # One section per shape timed past batch 1 (the shapes); the
    # shapes timed at batch 1 only (Llama-3.1-8B's other fusion groups) are
    # in the latency table and the JSON.
    bench_shapes = sorted({(b["rows"], b["cols"]) for b in default
                           if 1 < b["batch"] <= 8},
                          key=lambda s: (s[0] * s[1], s))
    for rows, cols in bench_shapes:
        batches = sorted({b["batch"] for b in default
                          if (b["rows"], b["cols"]) == (rows, cols) and b["batch"] <= 8})
        out.append("## %d x %d (M x K)" % (rows, cols))
        out.append("")
        out.append("fp16 cuBLAS: " + ", ".join(
            "batch %d %.2f us (%.0f GB/s, %.0f%% of read)" % (
                n, fp16[(rows, cols, n)]["microseconds"], fp16[(rows, cols, n)]["gbps"],
                100 * fp16[(rows, cols, n)]["gbps"] / read)
            for n in batches if (rows, cols, n) in fp16) + ".")
        out.append("")
        out.append("| quantizer | bits/w | " + " | ".join(
            "b%d us | b%d %% of read | b%d vs fp16" % (n, n, n) for n in batches) + " |")
        out.append("|---|---|" + "---|---|---|" * len(batches))
        by_name = collections.OrderedDict()
        for b in default:
            if (b["rows"], b["cols"]) == (rows, cols) and b["batch"] in batches:
                by_name.setdefault(b["quantizer"], {})[b["batch"]] = b
        for name, per_batch in by_name.items():
            any_b = next(iter(per_batch.values()))
            bits = 8 * any_b["storage_bytes"] / (rows * cols)
            cells = []
            for n in batches:
                b = per_batch.get(n)
                ref = fp16.get((rows, cols, n))
                if not b:
                    cells += ["-"] * 3
                    continue
                cells += ["%.2f" % b["microseconds"],
                          "%.0f%%" % (100 * b["gbps"] / read),
                          "%.2fx" % (ref["microseconds"] / b["microseconds"]) if ref else "-"]
            out.append("| %s | %.2f | %s |" % (name, bits, " | ".join(cells)))
        out.append("")

    big = sorted({g["batch"] for g in torch["gemv"] if g["batch"] > 32})
    if big:
        out.append("## fp16 cuBLAS past batch 32")
        out.append("")
        out.append("The mma.sync kernels take batches up to 32; past it qpal has "
                   "no dequantize + GEMM path yet. cuBLAS's fp16 time, the mark "
                   "such a path must meet (within 1.15x), in microseconds:")
        out.append("")
        out.append("| M x K | " + " | ".join("b%d" % n for n in big) + " |")
        out.append("|---|" + "---|" * len(big))
        for rows, cols in sorted({(g["rows"], g["cols"]) for g in torch["gemv"]
                                  if g["batch"] > 32}):
            out.append("| %dx%d | %s |" % (rows, cols, " | ".join(
                "%.2f" % fp16[(rows, cols, n)]["microseconds"]
                if (rows, cols, n) in fp16 else "-" for n in big)))
        out.append("")
    if "llama8b_rest_of_step" in torch:
        rest = torch["llama8b_rest_of_step"]
        out.append("One Llama-3.1-8B decode step without its linears (PyTorch fp16 "
                   "ops in a CUDA graph, %d-token cache, fp16 LM head): %.1f us; "
                   "the constant of `bench/results/llama31-8b-latency-*.json`."
                   % (rest["context"], rest["microseconds"]))
        out.append("")

    # Batches past 8: the same mma.sync kernels with 2-4 n-tiles per
    # supertile (the decode is shared by all of them).
    large = [b for b in default if b["batch"] > 8]
    if large:
        batches = sorted({b["batch"] for b in large})
        out.append("## Batch %s" % " and ".join(map(str, batches)))
        out.append("")
        out.append("Each supertile's decoded pairs feed ceil(batch / 8) "
                   "mma.sync n-tiles. Microseconds per call, and the speedup "
                   "over the fp16 cuBLAS GEMM at the same batch.")
        out.append("")
        header = " | ".join("b%d us | b%d vs fp16" % (n, n) for n in batches)
        out.append("| quantizer | M x K | %s |" % header)
        out.append("|---|---|" + "---|---|" * len(batches))
        table = {}
        for b in large:
            table.setdefault((b["quantizer"], b["rows"], b["cols"]), {})[b["batch"]] = b
        for (name, rows, cols), v in sorted(table.items(), key=lambda kv: (kv[0][1] * kv[0][2], kv[0])):
            cells = []
            for n in batches:
                b = v.get(n)
                ref = fp16.get((rows, cols, n))
                cells += (["%.2f" % b["microseconds"],
                           "%.2fx" % (ref["microseconds"] / b["microseconds"]) if ref else "-"]
                          if b else ["-", "-"])
            out.append("| %s | %dx%d | %s |" % (name, rows, cols, " | ".join(cells)))
        out.append("")

    # The grid sweep: microseconds at 2, 4 and 8 blocks per SM.
    grid = {}
    for b in benches:
        if b["variant"] in ("default", "bps4", "bps8"):
            grid.setdefault((b["quantizer"], b["rows"], b["cols"], b["batch"]),
                            {})[b["variant"]] = b["microseconds"]
    if any(len(v) > 1 for v in grid.values()):
        out.append("## Grid sweep (blocks per SM)")
        out.append("")
        out.append("Microseconds per call with the grid aimed at 2 (`default`), 4 "
                   "and 8 blocks per SM (K split further to get there); the "
                   "compiler's choice is in bold.")
        out.append("")
        out.append("| quantizer | M x K | batch | 2 | 4 | 8 |")
        out.append("|---|---|---|---|---|---|")
        for (name, rows, cols, batch), v in sorted(grid.items()):
            pick = chosen.get(family(name), "default")
            cells = []
            for k in ("default", "bps4", "bps8"):
                cell = "%.2f" % v[k] if k in v else "-"
                cells.append("**%s**" % cell if k == pick else cell)
            out.append("| %s | %dx%d | %d | %s |" % (name, rows, cols, batch,
                                                      " | ".join(cells)))
        out.append("")

    codegen = ("fma", "unroll2", "nopacked", "replicas1", "words", "unroll1")
    names = sorted({b["quantizer"] for b in benches if b["variant"] in codegen})
    if names:
        present = [k for k in codegen if any(b["variant"] == k for b in benches)]
        out.append("## Code generation variants")
        out.append("")
        out.append("Microseconds per call. `default`: mma.sync.m16n8k16 with the "
                   "packed f16x2 pair table in shared memory, replicated so "
                   "that lane w reads copy w mod R (R up to 32, as many as fit "
                   "40 KiB), each lane's codes read with 8/16-byte vector "
                   "loads, one supertile per iteration, 2 blocks per SM; "
                   "`fma`: CUDA-core FMAs and the f32 codebook; `unroll2`: two "
                   "supertiles decoded per iteration; `nopacked`: mma.sync with "
                   "the f32 codebook in shared memory (two lookups and a "
                   "conversion per pair); `replicas1`: one copy of the pair "
                   "table (bank conflicts); `words`: the codes read a 32-bit "
                   "word per load instead of 8/16-byte vector loads.")
        out.append("")
        out.append("| quantizer | M x K | batch | default | %s |" % " | ".join(present))
        out.append("|---|---|---|---|" + "---|" * len(present))
        table = {}
        for b in benches:
            if b["quantizer"] in names:
                table.setdefault((b["quantizer"], b["rows"], b["cols"], b["batch"]),
                                 {})[b["variant"]] = b["microseconds"]
        for (name, rows, cols, batch), v in sorted(table.items()):
            out.append("| %s | %dx%d | %d | %s |" % (
                name, rows, cols, batch, " | ".join(
                    "%.2f" % v[k] if k in v else "-"
                    for k in ("default",) + tuple(present))))
        out.append("")
    if args.notes:
        out.append(open(args.notes).read().rstrip())
        out.append("")
    with open(args.output + ".part", "w") as f:
        f.write("\n".join(out))
    os.replace(args.output + ".part", args.output)
    if args.json:
        rows = []
        for b in sorted(default, key=lambda b: (b["quantizer"], b["rows"], b["cols"], b["batch"])):
            ref = fp16.get((b["rows"], b["cols"], b["batch"]))
            rows.append({"quantizer": b["quantizer"], "rows": b["rows"],
                         "cols": b["cols"], "batch": b["batch"],
                         "us": b["microseconds"], "gbps": b["gbps"],
                         "fraction_of_read": b["gbps"] / read,
                         "speedup_vs_fp16": ref["microseconds"] / b["microseconds"]
                         if ref else None})
        with open(args.json + ".part", "w") as f:
            json.dump({"device": torch["device"], "read_gbps": read,
                       "copy_gbps": copy, "kernels": rows}, f, indent=1)
            f.write("\n")
        os.replace(args.json + ".part", args.json)


if __name__ == "__main__":
    main()
