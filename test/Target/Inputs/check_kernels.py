"""Runs `qpal kernel` over a matrix of quantizers, shapes and batches.

CPU kernels run on seeded random data and must match lib/Quant's reference
decode bit for bit and the float64 reference product to < 1e-3 relative
error; NVPTX kernels must be accepted by ptxas.
"""
import argparse
import json
import os
import subprocess
import sys

SMOLLM2_SHAPES = [(576, 576), (192, 576), (1536, 576), (576, 1536)]

# LLVM's x86 machine and post-RA schedulers reorder instructions and never
# change what a kernel computes, but where the host's scheduling model
# enables the post-RA list scheduler (Zen 3: CI's machine) they take 60-80%
# of each CPU kernel's compile (bench/results/compile-time.md, "Kernels: the
# x86 schedulers on Zen 3"). CPU runs switch them off, except every
# DEFAULT_BACKEND_EVERY-th run of each shard, which checks the kernel exactly as
# `qpal` builds it by default.
FAST_BACKEND = ["--post-RA-scheduler=false", "--enable-misched=false"]
DEFAULT_BACKEND_EVERY = 8


def host_has(flag):
    """Whether /proc/cpuinfo lists `flag` for this host."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return flag in line.split(":", 1)[1].split()
    except OSError:
        pass
    return False


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("FAILED: %s\n%s%s" % (" ".join(cmd), result.stdout, result.stderr))
    return result.stdout


def kernel_groups(qpal, palette=None):
    """Every member of every quantizer family, from `qpal palette --all`
    (lib/Quant's family registry, Families.def; or its JSON entries, when
    the caller already read them), grouped by family and layout: {"tcq":
    [...], "sq": [...], "sq_simt": [...], ...}, each in rate order. A new
    family is checked without editing this script."""
    if palette is None:
        palette = json.loads(run([qpal, "palette", "--all", "--json"]))
    groups = {}
    for entry in palette:
        if entry["family"] == "f16":
            continue
        group = entry["family"]
        if entry["name"].endswith(":simt"):
            group += "_simt"
        groups.setdefault(group, []).append(entry["name"])
    return groups


def nvptx_runs(names):
    """Every rate, for sm_80 and sm_90 at batch 1 and 8; the computed
    trellis codes (`:1mad`, `:3inst`) also for sm_86 and sm_89."""
    runs = []
    for name in names:
        chips = ("sm_80", "sm_90")
        if name.endswith((":1mad", ":3inst")):
            chips = ("sm_80", "sm_86", "sm_89", "sm_90")
        runs += [(name, chip, batch) for chip in chips for batch in (1, 8)]
    return runs


def cpu_runs(group, names):
    """The ends and the middle of the group's rates on SmolLM2's shapes and
    a 4096 x 4096 layer, and every rate on each decode path."""
    simt = group.endswith("simt")
    chosen = sorted({names[0], names[len(names) // 2], names[-1]})
    cases = [(r, c, b) for (r, c) in SMOLLM2_SHAPES for b in (1, 3, 8)]
    cases += [(4096, 4096, 1)]
    if simt:
        # A partial last chunk (2304 = 2 x 1024 + 256 columns, or
        # 2048 + 256 with two-weight vectors; a K the rotation takes, as
        # every compiled layer's must) and rows that are not a multiple
        # of 32.
        cases += [(196, 2304, 3)]
    runs = [(name, case, []) for name in chosen for case in cases]
    if not simt:
        # The lane-vector decode reads segments as 32- or 16-bit words
        # depending on the rate and looks small codebooks up with
        # AVX-512 permutes on hosts that have them (the default, host
        # ISA) or gathers (generic): every rate both ways, at batch 2
        # (sums in registers) and 3 (sums in memory). The two other
        # decode paths, for comparison: lane by lane, and gathers from
        # the f32 codebook.
        runs += [(name, (192, 576, 2), []) for name in names]
        runs += [(name, (192, 576, 3),
                  ["--cpu-isa=generic", "--cpu-decode=vector"])
                 for name in names]
        # AVX2's 8-lane permutes, where the host has AVX2 (on an AVX2
        # host they are the default above).
        if host_has("avx2") and host_has("avx512f"):
            runs += [(name, (192, 576, 2), ["--cpu-isa=avx2"])
                     for name in names]
        runs += [(name, (576, 576, 3), ["--cpu-decode=lanes"])
                 for name in chosen]
        runs += [(name, (576, 576, 2),
                  ["--cpu-decode=vector", "--cpu-packed=false"])
                 for name in chosen]
    else:
        # The lane-vector decode of full chunks (the partial one goes
        # lane by lane) with gathers only, and the lane-by-lane kernel.
        runs += [(name, (196, 2304, 2),
                  ["--cpu-isa=generic", "--cpu-decode=vector"])
                 for name in names]
        runs += [(name, (196, 2304, 3), ["--cpu-decode=lanes"])
                 for name in chosen]
    return runs


def guard_runs(group, names):
    """Both ends of the group's rates on each CPU decode path, each run
    twice: every argument buffer flush against an inaccessible page at its
    end, then at its start (`--guard-pages`). An access outside a buffer
    faults, and the run fails."""
    simt = group.endswith("simt")
    chosen = sorted({names[0], names[-1]})
    if simt:
        paths = [((196, 2304, 3), []), ((196, 2304, 2), ["--cpu-decode=lanes"]),
                 ((196, 2304, 1), ["--cpu-isa=generic", "--cpu-decode=vector"])]
    else:
        paths = [((192, 576, 1), []), ((192, 576, 3), []),
                 ((192, 576, 2), ["--cpu-decode=lanes"]),
                 ((192, 576, 3), ["--cpu-isa=generic", "--cpu-decode=vector"]),
                 ((192, 576, 2), ["--cpu-decode=vector", "--cpu-packed=false"])]
        if host_has("avx2") and host_has("avx512f"):
            paths.append(((192, 576, 2), ["--cpu-isa=avx2"]))
    return [(name, case, options + ["--guard-pages=" + where])
            for name in chosen for case, options in paths
            for where in ("end", "start")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", required=True)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--family", help="one group: a family, or "
                       "'<family>_simt' for its CUDA-core layout")
    which.add_argument("--shard", help="K/N: every N-th run of every group, "
                       "starting at the K-th")
    parser.add_argument("--target", default="cpu", choices=["cpu", "nvptx"])
    parser.add_argument("--guard-pages", action="store_true",
                        help="CPU only: the guard-page runs (guard_runs)")
    parser.add_argument("--workdir", default=".")
    args = parser.parse_args()
    qpal = os.path.join(args.tools, "qpal")
    groups = kernel_groups(qpal)
    if args.family:
        if args.family not in groups:
            sys.exit("unknown group '%s': expected one of %s" %
                     (args.family, ", ".join(sorted(groups))))
        chosen = [args.family]
        label = args.family
        shard, shards = 0, 1
    else:
        shard, shards = (int(v) for v in args.shard.split("/"))
        assert 0 <= shard < shards, args.shard
        chosen = sorted(groups)
        label = "shard %d/%d" % (shard, shards)
    if args.target == "nvptx":
        runs = [r for g in chosen for r in nvptx_runs(groups[g])]
    elif args.guard_pages:
        label += " guard-pages"
        runs = [r for g in chosen for r in guard_runs(g, groups[g])]
    else:
        runs = [r for g in chosen for r in cpu_runs(g, groups[g])]
    runs = runs[shard::shards]
    assert runs, "nothing to check"
    checked = 0
    if args.target == "nvptx":
        out = os.path.join(args.workdir, "kernel.cubin")
        for name, chip, batch in runs:
            run([qpal, "kernel", "--quantizer", name, "--rows", "576",
                 "--cols", "1536", "--batch", str(batch), "--target",
                 "nvptx", "--chip", chip, "-o", out])
            assert os.path.getsize(out) > 0, out
            checked += 1
    else:
        for index, (name, (rows, cols, batch), options) in enumerate(runs):
            backend = FAST_BACKEND if index % DEFAULT_BACKEND_EVERY else []
            report = json.loads(run(
                [qpal, "kernel", "--quantizer", name, "--rows", str(rows),
                 "--cols", str(cols), "--batch", str(batch), "--check",
                 "--json"] + options + backend))
            assert report["decode_mismatches"] == 0, report
            assert report["max_rel_err"] < 1e-3, report
            assert report["max_rel_err"] > 0, report
            for option in options:
                if option.startswith("--guard-pages="):
                    assert report["guard_pages"] == option.split("=")[1], report
            if "--cpu-decode=lanes" in options:
                assert not report["vector_decode"], report
            if "--cpu-decode=vector" in options:
                assert report["vector_decode"], report
            checked += 1
    print("%s %s: %d kernels ok" % (label, args.target, checked))


if __name__ == "__main__":
    main()
