#!/usr/bin/env python3
"""Compiles the GPU kernels qpal-gpu-kernels checks and times, and its manifest.

Runs `qpal kernel --target nvptx -o X.cubin --json` (LLVM's NVPTX backend,
then ptxas) for

  check: every palette quantizer (the families of test/Target) on SmolLM2's
         shapes and 4096 x 4096, batch 1, 3 and 8 (the CPU suite's cases);
  bench: the 3-4.5-bit members of every family on 4096 x 4096,
         14336 x 4096, 4096 x 14336 and the fused shapes 6144 x 4096 (q/k/v)
         and 28672 x 4096 (gate/up), batch 1, 2, 4 and 8;
  latency: every quantizer at batch 1 on each (fusion group) shape of
         Llama-3.1-8B, the entries of a latency table in the schema of
         shared/reference/data/llama31_8b_latency_rtx4090.json;
  ncu:   one representative of each family and layout at 4096 x 14336,
         batch 1, in a manifest of its own (manifest-ncu.txt) for Nsight
         Compute;
  variants: (--only ...,variants) code generation variants of a few quantizers
         (CUDA-core FMAs instead of mma.sync, two supertiles per iteration,
         the f32 codebook instead of the packed pair table, one copy of the
         table instead of one per lane group, word loads instead of
         8/16-byte vector loads of the codes);
  sweep: (--only ...,sweep) the grid aimed at 4 and 8 blocks per SM;
  rotate: the activation rotation kernels of widths 576, 1536, 4096 and
         14336, batch 1 and 8.

and writes OUT/manifest-{check,bench}-FAMILY.txt, manifest-variants.txt
and manifest-ncu.txt,
whose lines qpal-gpu-kernels reads. Everything
in OUT travels to the GPU machine; nothing there needs MLIR or LLVM.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

# The palette's families and SmolLM2's shapes, as the CPU suite has them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "test", "Target", "Inputs"))
from check_kernels import SMOLLM2_SHAPES, kernel_groups  # noqa: E402

CHECK_SHAPES = SMOLLM2_SHAPES + [(4096, 4096)]
BENCH_SHAPES = [(4096, 4096), (14336, 4096), (4096, 14336), (6144, 4096),
                (28672, 4096)]
# Llama-3.1-8B's fusion groups (rows x cols of the fused GEMM): q and o,
# k and v, kv, qk and qv, qkv, u and g, ug, d.
LATENCY_SHAPES = [(4096, 4096), (1024, 4096), (2048, 4096), (5120, 4096),
                  (6144, 4096), (14336, 4096), (28672, 4096), (4096, 14336)]
# Nsight Compute's subjects: one member of each family and layout at 3-4
# bits on the largest down_proj shape.
NCU_QUANTIZERS = ["ldlq_1_4_none_1.0", "ldlq_2_8_none_1.0", "tcq_8_none_0.9",
                  "tcomb_7_8_0.5_none_0.9", "tcq_8_none_1.2:3inst",
                  "tcq_8_none_1.1:1mad", "ldlq_1_4_none_1.0:simt",
                  "ldlq_2_8_none_1.0:simt"]
# Launch variants. "bpsN" aims the grid at N blocks per SM (the default is
# bps2); every quantizer is timed at each, and checked at the largest.
GRID_VARIANTS = {
    "default": [],
}
# The blocks-per-SM sweep of run 2 (bench/gpu/NOTES.md): --only bench,sweep.
SWEEP_VARIANTS = {
    "bps4": ["--gpu-blocks-per-sm=4"],
    "bps8": ["--gpu-blocks-per-sm=8"],
}
# Code generation variants, timed against the default for a few quantizers.
CODEGEN_VARIANTS = {
    "fma": ["--gpu-mma=false"],
    "unroll2": ["--gpu-unroll=2"],
    "nopacked": ["--gpu-packed=false"],
    "replicas1": ["--gpu-packed-replicas=1"],
    "words": ["--gpu-vector-segments=false"],
}
# The Nsight Compute subjects: the default code, in a manifest of their own.
PROFILE_VARIANTS = {"ncu": []}
VARIANTS = dict(GRID_VARIANTS, **SWEEP_VARIANTS, **CODEGEN_VARIANTS,
                **PROFILE_VARIANTS)
VARIANT_QUANTIZERS = ["tcq_6_none_0.9", "tcq_7_none_0.9", "tcq_8_none_0.9",
                      "tcomb_6_7_0.5_none_0.9", "ldlq_2_8_none_1.0",
                      "ldlq_1_2_none_1.0", "ldlq_1_4_none_1.0"]


def compile_one(qpal, out, mode, name, rows, cols, batch, chip, variant):
    safe = name.replace(".", "p").replace(":", "_")
    cubin = "%s_%s_m%d_k%d_n%d_%s.cubin" % (mode, safe, rows, cols, batch, variant)
    if mode == "rotate":
        what = ["--rotation"]
    else:
        what = ["--quantizer", name, "--rows", str(rows)] + VARIANTS[variant]
    cmd = [qpal, "kernel"] + what + ["--cols", str(cols), "--batch", str(batch),
                                     "--target", "nvptx", "--chip", chip,
                                     "-o", os.path.join(out, cubin), "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        return None, "%s: %s" % (" ".join(cmd), result.stderr.strip())
    report = json.loads(result.stdout)
    line = "%s %s %d %d %d %s %s %d %d %s" % (
        mode, name, rows, cols, batch, cubin, report["kernel"], report["grid"],
        report["block"], variant)
    return line, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qpal", required=True, help="the qpal driver")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--chip", default="sm_90")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--only", default="check,bench,latency,ncu,rotate")
    parser.add_argument("--families", default=None,
                        help="comma-separated groups of `qpal palette --all` "
                        "(default: every family and layout)")
    parser.add_argument("--check-batches", default="1,3,8")
    parser.add_argument("--bench-batches", default="1,2,4,8")
    parser.add_argument("--bench-bits", default="3,4.5",
                        help="LOW,HIGH: the rates (bits per weight) timed at "
                        "every bench batch")
    parser.add_argument("--variants", default=",".join(CODEGEN_VARIANTS),
                        help="the code generation variants to compile")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    only = set(args.only.split(","))
    palette = json.loads(subprocess.run([args.qpal, "palette", "--all", "--json"],
                                        check=True, capture_output=True,
                                        text=True).stdout)
    bits = {entry["name"]: entry["bits"] for entry in palette}
    FAMILIES = kernel_groups(args.qpal, palette)
    families = args.families.split(",") if args.families else sorted(FAMILIES)
    names = [n for f in families for n in FAMILIES[f]]
    low, high = (float(b) for b in args.bench_bits.split(","))
    check_batches = [int(b) for b in args.check_batches.split(",")]
    bench_batches = [int(b) for b in args.bench_batches.split(",")]
    jobs = []
    if "check" in only:
        jobs += [("check", n, r, c, b, "default") for n in names
                 for (r, c) in CHECK_SHAPES for b in check_batches]
    if "bench" in only:
        jobs += [("bench", n, r, c, b, "default") for n in names
                 if low <= bits[n] <= high
                 for (r, c) in BENCH_SHAPES for b in bench_batches]
    if "latency" in only:
        jobs += [("bench", n, r, c, 1, "default") for n in names
                 for (r, c) in LATENCY_SHAPES]
    if "ncu" in only:
        jobs += [("check", n, 4096, 14336, 1, "ncu") for n in NCU_QUANTIZERS
                 if n in names]
    jobs = list(dict.fromkeys(jobs))  # bench and latency share batch 1
    if "sweep" in only:
        for variant in SWEEP_VARIANTS:
            jobs += [("bench", n, r, c, b, variant) for n in names
                     for (r, c) in BENCH_SHAPES for b in (1, 8)]
        jobs += [("check", n, 4096, 4096, b, "bps8") for n in names
                 for b in (1, 3, 8)]
    if "variants" in only:
        for variant in args.variants.split(","):
            jobs += [("check", n, 4096, 4096, b, variant)
                     for n in VARIANT_QUANTIZERS for b in (1, 3, 8)]
            jobs += [("bench", n, r, c, b, variant) for n in VARIANT_QUANTIZERS
                     for (r, c) in BENCH_SHAPES for b in (1, 8)]
    if "rotate" in only:
        # The activation rotation kernels of SmolLM2's and Llama-8B's widths.
        jobs += [("rotate", "rht", 1, c, b, "default")
                 for c in (576, 1536, 4096, 14336) for b in (1, 8)]
    lines, errors = {}, []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [(job, pool.submit(compile_one, args.qpal, args.out, *job[:5],
                                     args.chip, job[5])) for job in jobs]
        for job, future in futures:
            line, error = future.result()
            if not line:
                errors.append(error)
                continue
            # One manifest per mode and family (variants apart), so that a
            # kernel that faults the GPU costs only its own manifest.
            if job[0] == "rotate":
                lines.setdefault("rotate", []).append(line)
                continue
            family = next(f for f, ns in FAMILIES.items() if job[1] in ns)
            if job[5] in CODEGEN_VARIANTS:
                group = "variants"
            elif job[5] in PROFILE_VARIANTS:
                group = "ncu"
            else:
                group = "%s-%s" % (job[0], family)
            lines.setdefault(group, []).append(line)
    for error in errors:
        print("not compiled: " + error, file=sys.stderr)
    for group, group_lines in sorted(lines.items()):
        manifest = os.path.join(args.out, "manifest-%s.txt" % group)
        with open(manifest + ".part", "w") as f:
            f.write("# mode quantizer rows cols batch cubin kernel grid block variant\n")
            f.write("\n".join(group_lines) + "\n")
        os.replace(manifest + ".part", manifest)
    print("%d kernels in %d manifests in %s, %d not compiled" % (
        sum(map(len, lines.values())), len(lines), args.out, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
