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

FAMILIES = {
    # Every rate of every family is covered by the PTX run; the CPU run takes
    # the ends and the middle of each family's range.
    "tcq": ["tcq_%d_none_0.9" % kv for kv in range(2, 11)],
    "tcq_split": ["tcomb_%d_%d_0.5_none_0.9" % (kv, kv + 1) for kv in range(2, 10)],
    "vq": ["ldlq_2_%d_none_1.0" % b for b in range(2, 13)],
    "sq": ["ldlq_1_%d_none_1.0" % b for b in range(2, 9)],
    # The CUDA-core (SIMT) layouts: one warp per row.
    "sq_simt": ["ldlq_1_%d_none_1.0:simt" % b for b in range(2, 9)],
    "vq_simt": ["ldlq_2_%d_none_1.0:simt" % b for b in range(2, 13)],
}
SMOLLM2_SHAPES = [(576, 576), (192, 576), (1536, 576), (576, 1536)]


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", required=True)
    parser.add_argument("--family", required=True, choices=sorted(FAMILIES))
    parser.add_argument("--target", default="cpu", choices=["cpu", "nvptx"])
    parser.add_argument("--workdir", default=".")
    args = parser.parse_args()
    qpal = os.path.join(args.tools, "qpal")
    names = FAMILIES[args.family]
    checked = 0
    if args.target == "nvptx":
        for name in names:
            for chip in ("sm_80", "sm_90"):
                for batch in (1, 8):
                    out = os.path.join(args.workdir, "kernel.cubin")
                    run([qpal, "kernel", "--quantizer", name, "--rows", "576",
                         "--cols", "1536", "--batch", str(batch), "--target",
                         "nvptx", "--chip", chip, "-o", out])
                    assert os.path.getsize(out) > 0, out
                    checked += 1
    else:
        chosen = sorted({names[0], names[len(names) // 2], names[-1]})
        cases = [(r, c, b) for (r, c) in SMOLLM2_SHAPES for b in (1, 3, 8)]
        cases += [(4096, 4096, 1)]
        if args.family.endswith("simt"):
            # A partial last chunk (2112 = 2 x 1024 + 64 columns) and rows
            # that are not a multiple of 32.
            cases += [(196, 2112, 3)]
        runs = [(name, case, []) for name in chosen for case in cases]
        if not args.family.endswith("simt"):
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
            runs += [(name, (196, 2112, 2),
                      ["--cpu-isa=generic", "--cpu-decode=vector"])
                     for name in names]
            runs += [(name, (196, 2112, 3), ["--cpu-decode=lanes"])
                     for name in chosen]
        for name, (rows, cols, batch), options in runs:
            report = json.loads(run(
                [qpal, "kernel", "--quantizer", name, "--rows", str(rows),
                 "--cols", str(cols), "--batch", str(batch), "--check",
                 "--json"] + options))
            assert report["decode_mismatches"] == 0, report
            assert report["max_rel_err"] < 1e-3, report
            assert report["max_rel_err"] > 0, report
            if "--cpu-decode=lanes" in options:
                assert not report["vector_decode"], report
            if "--cpu-decode=vector" in options:
                assert report["vector_decode"], report
            checked += 1
    print("%s %s: %d kernels ok" % (args.family, args.target, checked))


if __name__ == "__main__":
    main()
