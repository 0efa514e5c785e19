#!/usr/bin/env python3
"""CPU kernel benchmark: GB/s of packed weights per quantizer family.

Runs `qpal kernel --bench --json` at batch 1 (the decode-bound case) on each
shape and prints a Markdown table with the machine's copy bandwidth measured
in the same run (a STREAM-like 2 x 256 MiB memcpy on all threads).

  bench/kernels/cpu_kernels.py [--qpal build/bin/qpal] [--shapes 4096x4096,...]
"""
import argparse
import json
import platform
import subprocess

QUANTIZERS = [
    "tcq_4_none_0.9", "tcq_6_none_0.9", "tcq_8_none_0.9",
    "tcomb_6_7_0.5_none_0.9",
    "ldlq_2_6_none_1.0", "ldlq_2_9_none_1.0",
    "ldlq_1_4_none_1.0", "ldlq_1_8_none_1.0",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--qpal", default="build/bin/qpal")
    parser.add_argument("--shapes", default="4096x4096,1536x576,576x1536")
    parser.add_argument("--batch", type=int, default=1)
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
    print("| quantizer | M x K | us/call | GB/s | copy GB/s | fraction | max rel err |")
    print("|---|---|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        rows, cols = shape.split("x")
        for name in QUANTIZERS:
            out = subprocess.run(
                [args.qpal, "kernel", "--quantizer", name, "--rows", rows,
                 "--cols", cols, "--batch", str(args.batch), "--bench",
                 "--json"], capture_output=True, text=True, check=True).stdout
            r = json.loads(out)
            print("| %s | %sx%s | %.1f | %.2f | %.1f | %.1f%% | %.1e |" % (
                name, rows, cols, r["microseconds"], r["gbps"],
                r["stream_gbps"], 100 * r["fraction_of_bandwidth"],
                r["max_rel_err"]))


if __name__ == "__main__":
    main()
