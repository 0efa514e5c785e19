#!/usr/bin/env python3
"""Perplexity of SmolLM2 with every palette quantizer applied uniformly.

Runs `qpal eval --quantizer NAME --json` (the evaluation protocol: SOTU
2010-2021, first 8192 tokens, windows of 512) for the fp weights and each
quantizer, and prints a Markdown table. TCQ quantizers spend minutes in the
Viterbi encoder on 2 cores; `--only` restricts the run.

  bench/models/smollm2_uniform.py [--qpal build/bin/qpal] [--model M]
      [--only family,...] [--max-tokens 8192]
"""
import argparse
import json
import subprocess
import sys

FAMILIES = {
    "tcq": ["tcq_%d_none_0.9" % kv for kv in range(4, 11)],
    "tcomb": ["tcomb_%d_%d_0.5_none_0.9" % (kv, kv + 1) for kv in range(4, 10)],
    "sq": ["ldlq_1_%d_none_1.0" % b for b in range(2, 9)],
    "vq": ["ldlq_2_%d_none_1.0" % b for b in range(3, 13)],
}


def run(qpal, model, quantizer, max_tokens):
    cmd = [qpal, "eval", model, "--max-tokens", str(max_tokens), "--json"]
    if quantizer:
        cmd += ["--quantizer", quantizer]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("FAILED: %s\n%s" % (" ".join(cmd), out.stderr))
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--qpal", default="build/bin/qpal")
    parser.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--only", default="sq,vq,tcq,tcomb")
    parser.add_argument("--max-tokens", type=int, default=8192)
    parser.add_argument("--names", default="",
                        help="Only these quantizers (comma-separated names)")
    parser.add_argument("--no-fp", action="store_true",
                        help="Skip the fp row")
    args = parser.parse_args()
    print("| weights | bits/weight | perplexity | vs fp | eval tok/s | quantize + load s |")
    print("|---|---|---|---|---|---|")
    fp = run(args.qpal, args.model, None, args.max_tokens)
    if not args.no_fp:
        print("| fp (the GGUF's Q4_1 weights, dequantized) | - | %.4f | - | %.0f | %.1f |" % (
            fp["perplexity"], fp["tokens_per_second"], fp["load_seconds"]), flush=True)
    names = set(filter(None, args.names.split(",")))
    for family in args.only.split(","):
        for name in FAMILIES[family]:
            if names and name not in names:
                continue
            r = run(args.qpal, args.model, name, args.max_tokens)
            bits = {"tcq": lambda n: int(n.split("_")[1]) / 2,
                    "tcomb": lambda n: (int(n.split("_")[1]) + int(n.split("_")[2])) / 4,
                    "sq": lambda n: int(n.split("_")[2]),
                    "vq": lambda n: int(n.split("_")[2]) / 2}[family](name)
            print("| %s | %.2f | %.4f | %+.1f%% | %.0f | %.1f |" % (
                name, bits, r["perplexity"],
                100 * (r["perplexity"] / fp["perplexity"] - 1),
                r["tokens_per_second"], r["load_seconds"]), flush=True)


if __name__ == "__main__":
    main()
