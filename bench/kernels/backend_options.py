#!/usr/bin/env python3
"""CPU kernels under LLVM back-end options: compile seconds and GB/s.

For each quantizer and batch, compiles the kernel (`qpal kernel -o K.o`,
wall-clock seconds) and times it (`qpal kernel --bench --json`: GB/s of
packed weights and the fraction of the copy bandwidth measured in the same
process) under each set of options, the sets interleaved in rotating order
round after round, so that the machine's drift falls on all of them alike.
Prints one Markdown table of medians and each set's ratio to the first.

  bench/kernels/backend_options.py [--qpal build/bin/qpal] [--rounds 7]
      [--quantizers a,b] [--batches 1,8] [--shape 4096x4096]
      [--set NAME=OPTIONS]...   (default: the x86 schedulers on and off)
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

QUANTIZERS = ["ldlq_1_4_none_1.0", "ldlq_2_8_none_1.0", "tcq_8_none_0.9",
              "tcq_8_none_1.2:3inst"]
SETS = ["default=",
        "post-RA off=--post-RA-scheduler=false",
        "both off=--post-RA-scheduler=false --enable-misched=false"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qpal", default="build/bin/qpal")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quantizers", default=",".join(QUANTIZERS))
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--shape", default="4096x4096")
    parser.add_argument("--set", action="append", dest="sets",
                        help="NAME=OPTIONS (repeatable; the first is the base)")
    args = parser.parse_args()
    sets = [s.split("=", 1) for s in (args.sets or SETS)]
    rows, cols = args.shape.split("x")
    cases = [(q, int(b)) for q in args.quantizers.split(",")
             for b in args.batches.split(",")]
    compile_s, gbps, fraction = {}, {}, {}
    with tempfile.TemporaryDirectory() as work:
        obj = os.path.join(work, "k.o")
        for round_ in range(args.rounds):
            for case_index, (q, batch) in enumerate(cases):
                base = ["kernel", "--quantizer", q, "--rows", rows, "--cols",
                        cols, "--batch", str(batch)]
                shift = (round_ + case_index) % len(sets)
                for name, options in sets[shift:] + sets[:shift]:
                    extra = options.split()
                    start = time.perf_counter()
                    subprocess.run([args.qpal] + base + ["-o", obj] + extra,
                                   check=True, capture_output=True)
                    compile_s.setdefault((q, batch, name), []).append(
                        time.perf_counter() - start)
                    report = json.loads(subprocess.run(
                        [args.qpal] + base + ["--bench", "--json"] + extra,
                        check=True, capture_output=True, text=True).stdout)
                    gbps.setdefault((q, batch, name), []).append(report["gbps"])
                    fraction.setdefault((q, batch, name), []).append(
                        report["fraction_of_bandwidth"])
            print("round %d of %d done" % (round_ + 1, args.rounds), flush=True)
    base_name = sets[0][0]
    print("\n| kernel | batch | options | compile s | GB/s | of copy BW | "
          "GB/s vs %s | compile vs %s |" % (base_name, base_name))
    print("|---|---|---|---|---|---|---|---|")
    for q, batch in cases:
        base_gbps = statistics.median(gbps[(q, batch, base_name)])
        base_compile = statistics.median(compile_s[(q, batch, base_name)])
        for name, _ in sets:
            key = (q, batch, name)
            g = statistics.median(gbps[key])
            c = statistics.median(compile_s[key])
            print("| %s | %d | %s | %.2f | %.2f (%.2f-%.2f) | %.1f%% | %.2fx | %.2fx |" % (
                q, batch, name, c, g, min(gbps[key]), max(gbps[key]),
                100 * statistics.median(fraction[key]), g / base_gbps,
                c / base_compile))


if __name__ == "__main__":
    main()
