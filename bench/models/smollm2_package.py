#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""SmolLM2-135M compiled by qpal, run by qpal-run, next to llama.cpp on the
shipped Q4_1 file, measured side by side in one run on this machine.

For each package: `qpal-run --bench` (prefill of --prompt-tokens, then
batch-1 greedy decode of --decode-tokens; median of 3 after a warm-up, in
--rounds rounds that interleave the engines) and
`qpal-run --perplexity` (the project's protocol: State of the Union
2010-2021, first 8192 tokens, windows of 512). llama.cpp (llama-cpp-python)
runs the same prefill and decode with the same thread count; its perplexity
under the same protocol is test/Model/Inputs/smollm2-llamacpp.json's.

Usage: smollm2_package.py --qpal-run BIN --gguf Q4_1.gguf [--threads 2]
           [--rounds 3] [--perplexity] NAME=PACKAGE.qpal ...
Prints a Markdown table (and --json FILE writes the numbers).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


class LlamaCpp:
    """llama.cpp on the shipped file, loaded once, measured per round."""

    def __init__(self, gguf, threads, prompt_tokens, decode_tokens):
        import llama_cpp
        from llama_cpp import Llama

        self.llama_cpp = llama_cpp
        self.decode_tokens = decode_tokens
        self.llm = Llama(model_path=gguf,
                         n_ctx=prompt_tokens + decode_tokens + 8,
                         n_threads=threads, n_threads_batch=threads,
                         n_batch=prompt_tokens, verbose=False)
        text = ("The State of the Union is strong, and the people of this "
                "nation have worked hard to make it so. ") * 40
        self.prompt = self.llm.tokenize(text.encode())[:prompt_tokens]
        assert len(self.prompt) == prompt_tokens

    def bench(self, repeats):
        """Median prefill and decode tokens/s of `repeats` runs after a
        warm-up, as `qpal-run --bench` measures."""
        import numpy as np

        llm = self.llm
        prefill, decode = [], []
        for r in range(repeats + 1):
            llm.reset()
            start = time.perf_counter()
            llm.eval(self.prompt)
            middle = time.perf_counter()
            vocab = llm.n_vocab()
            for _ in range(self.decode_tokens):
                logits = np.ctypeslib.as_array(
                    self.llama_cpp.llama_get_logits_ith(llm.ctx, -1),
                    shape=(vocab,))
                llm.eval([int(np.argmax(logits))])
            end = time.perf_counter()
            if r:  # the first run warms up
                prefill.append(middle - start)
                decode.append(end - middle)
        return {
            "prefill_tokens_per_second":
                len(self.prompt) / statistics.median(prefill),
            "decode_tokens_per_second":
                self.decode_tokens / statistics.median(decode),
        }


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qpal-run", required=True)
    p.add_argument("--gguf", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--decode-tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--perplexity", action="store_true")
    p.add_argument("--json")
    p.add_argument("packages", nargs="+", metavar="NAME=PACKAGE")
    a = p.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    reference = json.load(open(os.path.join(
        here, "..", "..", "test", "Model", "Inputs", "smollm2-llamacpp.json")))
    # Rounds interleave the engines (llama.cpp, then each package), so that
    # a slow stretch of this (shared, virtual) machine falls on all of them;
    # each figure is the median over rounds of a round's median.
    llama = LlamaCpp(a.gguf, a.threads, a.prompt_tokens, a.decode_tokens)
    packages = [spec.split("=", 1) for spec in a.packages]
    samples = [[] for _ in range(len(packages) + 1)]
    for _ in range(a.rounds):
        samples[0].append(llama.bench(a.repeats))
        for i, (_, path) in enumerate(packages):
            samples[i + 1].append(run_json(
                [a.qpal_run, path, "--bench", "--json", "--threads",
                 str(a.threads), "--prompt-tokens", str(a.prompt_tokens),
                 "--decode-tokens", str(a.decode_tokens), "--repeats",
                 str(a.repeats)]))

    def summarize(row, runs):
        for key in ("prefill_tokens_per_second", "decode_tokens_per_second"):
            values = [run[key] for run in runs]
            row[key] = statistics.median(values)
            row[key.replace("_per_second", "_range")] = [min(values),
                                                          max(values)]
        return row

    rows = [summarize({"name": "llama.cpp, shipped Q4_1",
                       # Q4_1: 4-bit codes, f16 scale and min per 32
                       "bits": 4.5 + 0.5,
                       "perplexity": reference.get("perplexity")},
                      samples[0])]
    rows[0]["decode_ratio"] = rows[0]["decode_ratio_range"] = None
    for (name, path), runs in zip(packages, samples[1:]):
        info = run_json([a.qpal_run, path, "--info", "--json"])
        row = summarize({"name": name, "bits": info.get("bits_per_weight"),
                         "package_mb": os.path.getsize(path) / 1e6}, runs)
        # Against llama.cpp in the same round: the machine's slow and fast
        # stretches cancel.
        ratios = [run["decode_tokens_per_second"] /
                  base_run["decode_tokens_per_second"]
                  for run, base_run in zip(runs, samples[0])]
        row["decode_ratio"] = statistics.median(ratios)
        row["decode_ratio_range"] = [min(ratios), max(ratios)]
        if a.perplexity:
            row["perplexity"] = run_json([a.qpal_run, path, "--perplexity",
                                          "--json"])["perplexity"]
        rows.append(row)

    print(f"Medians of {a.rounds} interleaved rounds (each the median of "
          f"{a.repeats} runs after a warm-up), {a.threads} threads; the "
          f"range over rounds in brackets; the decode ratio is the median "
          f"of each round's ratio to llama.cpp in that round.")
    print()
    print("| model | bits/weight | prefill tok/s | decode tok/s | decode vs llama.cpp | perplexity |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        ppl = row.get("perplexity")
        ratio = ("%.2fx [%.2f-%.2f]" % (row["decode_ratio"],
                                        *row["decode_ratio_range"])
                 if row["decode_ratio"] else "1.00x")
        print("| %s | %s | %.0f [%.0f-%.0f] | %.1f [%.0f-%.0f] | %s | %s |" % (
            row["name"],
            "%.2f" % row["bits"] if row.get("bits") else "-",
            row["prefill_tokens_per_second"], *row["prefill_tokens_range"],
            row["decode_tokens_per_second"], *row["decode_tokens_range"],
            ratio, "%.4f" % ppl if ppl else "-"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
