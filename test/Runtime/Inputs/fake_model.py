#!/usr/bin/env python3
# ===- fake_model.py - The fake model's answers, computed in Python ----=== #
#
# Part of the qpal project, under the Apache License v2.0 with LLVM
# Exceptions. See LICENSE for license information.
#
# ===------------------------------------------------------------------=== #
#
# The logits of test/Unit/Runtime/Inputs/FakeStep.c (the formula in its
# header comment), evaluated here independently of the runtime, and what
# `qpal-run` must make of them:
#
#   fake_model.py greedy ID... [-n N]
#       the ids greedy generation appends to the prompt ids (stopping after
#       EOS, id 0), space separated: `qpal-run --prompt ... --tokens`
#   fake_model.py perplexity TEXT_FILE --ctx N --max-tokens M --check JSON
#       checks `qpal-run --perplexity --json` against the protocol (text of
#       the letters a to o, one token each; windows of N from a fresh cache;
#       NLL of tokens 1..N-1)
#
# ===------------------------------------------------------------------=== #

import argparse
import json
import math
import struct
import sys

from make_package import arena

VOCAB, PLANES, WIDTH = 16, 4, 3
ARENA = arena()


def f32(value):
    """Rounds to float32, as a C float."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def logits(sequence):
    """The logits of the last token of `sequence` (positions 0..)."""
    n, pos = len(ARENA), len(sequence) - 1
    out = []
    for v in range(VOCAB):
        total = 0.0
        for p in range(PLANES):
            for j in range(pos + 1):
                for w in range(WIDTH):
                    token = sequence[j]
                    # Exact in float32: at most 9 significant bits.
                    cached = (ARENA[(7 * token + 5 * p + 3 * w) % n] + 1) / 32.0 + token / 8.0
                    weight = (ARENA[(11 * v + 13 * p + 17 * w) % n] - 128.0) / 64.0 * (p + 1)
                    total += cached * weight * (j + 1) / (pos + 1)
        out.append(f32(total + pos / 2.0 + v / 100.0))
    return out


def greedy(prompt, count, eos=0):
    sequence, produced = list(prompt), []
    while len(produced) < count:
        row = logits(sequence)
        token = row.index(max(row))
        produced.append(token)
        if token == eos:
            break
        sequence.append(token)
    return produced


def window_nll(tokens):
    total = 0.0
    for t in range(len(tokens) - 1):
        row = logits(tokens[: t + 1])
        top = max(row)
        # float32 differences, as Evaluator::scoreSequence.
        total += top + math.log(sum(math.exp(f32(x - top)) for x in row)) - row[tokens[t + 1]]
    return total


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("greedy")
    g.add_argument("ids", type=int, nargs="+")
    g.add_argument("-n", type=int, default=64)
    p = sub.add_parser("perplexity")
    p.add_argument("text")
    p.add_argument("--ctx", type=int, required=True)
    p.add_argument("--max-tokens", type=int, required=True)
    p.add_argument("--check", required=True)
    args = parser.parse_args()
    if args.command == "greedy":
        print(" ".join(str(t) for t in greedy(args.ids, args.n)))
        return
    with open(args.text) as f:
        ids = [ord(c) - ord("a") + 1 for c in f.read()][: args.max_tokens]
    total, windows = 0.0, 0
    for begin in range(0, len(ids) - args.ctx + 1, args.ctx):
        total += window_nll(ids[begin : begin + args.ctx])
        windows += 1
    scored = windows * (args.ctx - 1)
    expected = math.exp(total / scored)
    with open(args.check) as f:
        got = json.load(f)
    assert got["windows"] == windows, (got["windows"], windows)
    assert got["tokens_scored"] == scored, (got["tokens_scored"], scored)
    assert math.isclose(got["perplexity"], expected, rel_tol=1e-9), (got["perplexity"], expected)
    print("perplexity ok: %d windows, %d tokens, %.6g" % (windows, scored, expected))


if __name__ == "__main__":
    sys.exit(main())
