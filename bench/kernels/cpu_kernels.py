#!/usr/bin/env python3
"""CPU kernel benchmark: GB/s of packed weights per quantizer family.

Runs `qpal kernel --bench --json` on each shape and prints a Markdown table
with the machine's copy bandwidth measured in the same run (a STREAM-like
2 x 256 MiB memcpy on all threads). The kernel qpal generates by default
(lane-vector decode, the host's ISA) is compared with the two other decode
paths of the same kernel, measured right after it: the lane-vector decode
with gathers only (`--cpu-isa=generic --cpu-decode=vector`) and the
lane-by-lane scalar decode (`--cpu-decode=lanes`). The default picks one of
them per quantizer (the `decode` column).

  bench/kernels/cpu_kernels.py [--qpal build/bin/qpal] [--shapes 4096x4096,...]
                               [--batch 1] [--no-compare] [--quantizers a,b,...]
"""
import argparse
import json
import platform
import subprocess

QUANTIZERS = [
    "tcq_4_none_0.9", "tcq_6_none_0.9", "tcq_8_none_0.9",
    "tcomb_6_7_0.5_none_0.9",
    "ldlq_2_4_none_1.0", "ldlq_2_6_none_1.0", "ldlq_2_9_none_1.0",
    "ldlq_1_2_none_1.0", "ldlq_1_4_none_1.0", "ldlq_1_8_none_1.0",
]


def bench(args, name, rows, cols, options):
    out = subprocess.run(
        [args.qpal, "kernel", "--quantizer", name, "--rows", rows, "--cols",
         cols, "--batch", str(args.batch), "--bench", "--json"] + options,
        capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--qpal", default="build/bin/qpal")
    parser.add_argument("--shapes", default="4096x4096,1536x576,576x1536")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--no-compare", action="store_true",
                        help="time only the default kernel")
    parser.add_argument("--quantizers", default=",".join(QUANTIZERS),
                        help="comma-separated reference names (NAME:simt for "
                             "the CUDA-core layouts)")
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print("CPU kernels, batch %d, on %s\n" % (args.batch, cpu))
    header = "| quantizer | M x K | ISA | decode | us/call | GB/s | copy GB/s | fraction | max rel err |"
    rule = "|---|---|---|---|---|---|---|---|---|"
    if not args.no_compare:
        header += " gathers only GB/s | lane by lane GB/s |"
        rule += "---|---|"
    print(header)
    print(rule)
    for shape in args.shapes.split(","):
        rows, cols = shape.split("x")
        for name in args.quantizers.split(","):
            r = bench(args, name, rows, cols, [])
            line = "| %s | %sx%s | %s | %s | %.1f | %.2f | %.1f | %.1f%% | %.1e |" % (
                name, rows, cols, r["cpu_isa"],
                "vector" if r["vector_decode"] else "lanes",
                r["microseconds"], r["gbps"],
                r["stream_gbps"], 100 * r["fraction_of_bandwidth"],
                r["max_rel_err"])
            if not args.no_compare:
                generic = bench(args, name, rows, cols,
                                ["--cpu-isa=generic", "--cpu-decode=vector"])
                scalar = bench(args, name, rows, cols, ["--cpu-decode=lanes"])
                line += " %.2f | %.2f |" % (generic["gbps"], scalar["gbps"])
            print(line, flush=True)


if __name__ == "__main__":
    main()
