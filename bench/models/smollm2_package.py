#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""SmolLM2-135M compiled by qpal, run by qpal-run, next to llama.cpp on the
shipped Q4_1 file, measured side by side in one run on this machine.

For each package: `qpal-run --bench` (prefill of --prompt-tokens, then
batch-1 greedy decode of --decode-tokens; median of 3 after a warm-up) and
`qpal-run --perplexity` (the project's protocol: State of the Union
2010-2021, first 8192 tokens, windows of 512). llama.cpp (llama-cpp-python)
runs the same prefill and decode with the same thread count; its perplexity
under the same protocol is test/Model/Inputs/smollm2-llamacpp.json's.

Usage: smollm2_package.py --qpal-run BIN --gguf Q4_1.gguf [--threads 2]
           [--perplexity] NAME=PACKAGE.qpal ...
Prints a Markdown table (and --json FILE writes the numbers).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def bench_llamacpp(gguf, threads, prompt_tokens, decode_tokens, repeats):
    import llama_cpp
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(model_path=gguf, n_ctx=prompt_tokens + decode_tokens + 8,
                n_threads=threads, n_threads_batch=threads,
                n_batch=prompt_tokens, verbose=False)
    text = ("The State of the Union is strong, and the people of this "
            "nation have worked hard to make it so. ") * 40
    prompt = llm.tokenize(text.encode())[:prompt_tokens]
    assert len(prompt) == prompt_tokens
    prefill, decode = [], []
    for r in range(repeats + 1):
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt)
        middle = time.perf_counter()
        vocab = llm.n_vocab()
        for _ in range(decode_tokens):
            # The last token's logits, straight from llama.cpp.
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(vocab,))
            llm.eval([int(np.argmax(logits))])
        end = time.perf_counter()
        if r:  # the first run warms up
            prefill.append(middle - start)
            decode.append(end - middle)
    return {
        "prefill_tokens_per_second": prompt_tokens / statistics.median(prefill),
        "decode_tokens_per_second": decode_tokens / statistics.median(decode),
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
    p.add_argument("--perplexity", action="store_true")
    p.add_argument("--json")
    p.add_argument("packages", nargs="+", metavar="NAME=PACKAGE")
    a = p.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    reference = json.load(open(os.path.join(
        here, "..", "..", "test", "Model", "Inputs", "smollm2-llamacpp.json")))
    rows = []
    llama = bench_llamacpp(a.gguf, a.threads, a.prompt_tokens,
                           a.decode_tokens, a.repeats)
    llama["name"] = "llama.cpp, shipped Q4_1"
    llama["bits"] = 4.5 + 0.5  # Q4_1: 4-bit codes, f16 scale and min per 32
    llama["perplexity"] = reference.get("perplexity")
    rows.append(llama)
    for spec in a.packages:
        name, path = spec.split("=", 1)
        info = run_json([a.qpal_run, path, "--info", "--json"])
        bench = run_json([a.qpal_run, path, "--bench", "--json",
                          "--threads", str(a.threads),
                          "--prompt-tokens", str(a.prompt_tokens),
                          "--decode-tokens", str(a.decode_tokens),
                          "--repeats", str(a.repeats)])
        row = {"name": name, "bits": info.get("bits_per_weight"),
               "package_mb": os.path.getsize(path) / 1e6,
               "prefill_tokens_per_second": bench["prefill_tokens_per_second"],
               "decode_tokens_per_second": bench["decode_tokens_per_second"]}
        if a.perplexity:
            row["perplexity"] = run_json([a.qpal_run, path, "--perplexity",
                                          "--json"])["perplexity"]
        rows.append(row)

    base = rows[0]
    print("| model | bits/weight | prefill tok/s | decode tok/s | decode vs llama.cpp | perplexity |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        ppl = row.get("perplexity")
        print("| %s | %s | %.0f | %.1f | %.2fx | %s |" % (
            row["name"],
            "%.2f" % row["bits"] if row.get("bits") else "-",
            row["prefill_tokens_per_second"],
            row["decode_tokens_per_second"],
            row["decode_tokens_per_second"] / base["decode_tokens_per_second"],
            "%.4f" % ppl if ppl else "-"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
