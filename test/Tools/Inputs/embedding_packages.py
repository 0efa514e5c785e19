#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""For each ggml block format of the tiny Llama's embedding table: compiles a
package that keeps the table's bytes and one whose table is f32
(--dense-embedding), and prints one line per format that
qpal-compile-embedding.test checks: the stored bytes per row, how much
smaller the package's weights are (exactly the table's f32 bytes less its
stored bytes), whether the two perplexities are identical to the last digit
(the in-place decode is lib/Model's dequantization, bit for bit), and whether
the package's perplexity equals `qpal eval`'s."""

import argparse
import json
import os
import subprocess
import sys

# ggml's block geometry (ggml-common.h): bytes per block of 32 elements.
BLOCK_BYTES = {"q4_0": 18, "q4_1": 20, "q5_0": 22, "q5_1": 24, "q8_0": 34}
VOCAB, HIDDEN = 64, 32


def run(*args):
    return subprocess.run(args, check=True, capture_output=True,
                          text=True).stdout


def weight_bytes(qpal_run, package):
    return json.loads(run(qpal_run, package, "--info", "--json"))[
        "weight_bytes"]


def perplexity(qpal_run, package, text):
    out = run(qpal_run, package, "--perplexity", "--text", text, "--ctx",
              "16", "--json")
    return json.loads(out)["perplexity"], out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qpal", required=True)
    p.add_argument("--qpal-run", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--same", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    for fmt, block in BLOCK_BYTES.items():
        model = os.path.join(a.inputs, f"tiny-llama-vocab-embd-{fmt}.gguf")
        stored = os.path.join(a.out, f"{fmt}.qpal")
        dense = os.path.join(a.out, f"{fmt}-dense.qpal")
        plan = os.path.join(a.out, f"{fmt}.plan.json")
        common = ["compile", model, "--quantizer", "ldlq_1_4_none_1.0:simt",
                  "--quiet"]
        run(a.qpal, *common, "-o", stored, "--emit-plan", plan)
        run(a.qpal, *common, "-o", dense, "--dense-embedding")
        row = HIDDEN // 32 * block
        smaller = weight_bytes(a.qpal_run, dense) - weight_bytes(
            a.qpal_run, stored)
        expected = VOCAB * (HIDDEN * 4 - row)
        if smaller != expected:
            sys.exit(f"{fmt}: the weights are {smaller} bytes smaller than "
                     f"with an f32 table, expected {expected}")
        ppl, out = perplexity(a.qpal_run, stored, a.text)
        dense_ppl, _ = perplexity(a.qpal_run, dense, a.text)
        if ppl != dense_ppl:
            sys.exit(f"{fmt}: perplexity {ppl!r} with the stored table, "
                     f"{dense_ppl!r} with the f32 table")
        run_json = os.path.join(a.out, f"{fmt}.run.json")
        eval_json = os.path.join(a.out, f"{fmt}.eval.json")
        with open(run_json, "w") as f:
            f.write(out)
        with open(eval_json, "w") as f:
            f.write(run(a.qpal, "eval", model, "--plan", plan, "--text",
                        a.text, "--ctx", "16", "--json"))
        same = run(sys.executable, a.same, run_json, eval_json)
        if not same.startswith("same perplexity"):
            sys.exit(f"{fmt}: {same}")
        print(f"{fmt}: {row} bytes per row (f32: {HIDDEN * 4}), weights "
              f"{smaller} bytes smaller, perplexity {ppl:.6f} == dense, "
              f"same as qpal eval")


if __name__ == "__main__":
    main()
