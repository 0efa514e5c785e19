#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Reference perplexity and token ids from llama.cpp (llama-cpp-python).

Implements qpal's evaluation protocol independently of qpal:
  text   = the State of the Union files 2010_*.txt .. 2021_*.txt, in file-name
           order, joined with "\\n\\n";
  tokens = llama.cpp's tokenization, without BOS, first --tokens of them;
  windows of --window tokens, non-overlapping, each evaluated from a fresh KV
  cache; in each window every token after the first is scored;
  ppl    = exp(mean NLL).

Also records llama.cpp's token ids for a few tokenizer samples and the logits
of a short sequence, which qpal's unit tests compare against.

Usage: llamacpp_ppl.py MODEL.gguf SOTU_DIR OUT.json [--tokens 8192] [--kv-f32]

The committed references:
  smollm2-llamacpp.json      the Q4_1 file as shipped (llama.cpp's own numerics:
                             8-bit activations in quantized dot products, F16 KV)
  smollm2-f32-llamacpp.json  the same weights dequantized by
                             dequantize_gguf.py, F32 KV cache: float32
                             throughout, like qpal's evaluator
"""

import argparse
import glob
import hashlib
import json
import math
import os
import struct
import time

import numpy as np
from llama_cpp import Llama

TOKENIZER_SAMPLES = [
    "Hello world",
    "The year 2021 cost $1,234.56 -- isn't it? We'll see; they'd've said.",
    "  Leading spaces,\ttabs\n\nand  double  spaces  \n end",
    "caf\u00e9 na\u00efve \u2014 \u201cquoted\u201d \u2019tis 3\u00bd \u00b2 \u4e2d\u6587 \U0001F600!",
    "Madam Speaker, Vice President Biden, Members of Congress",
    "I'm   \n\n\n   12345678 items",
]


def load_text(sotu_dir, first_year=2010, last_year=2021):
    files = []
    for year in range(first_year, last_year + 1):
        files += sorted(glob.glob(os.path.join(sotu_dir, f"{year}_*.txt")))
    files.sort(key=os.path.basename)
    parts = []
    for path in files:
        with open(path, "r", encoding="utf-8", newline="") as f:
            parts.append(f.read())
    return "\n\n".join(parts), [os.path.basename(p) for p in files]


def ids_sha256(ids):
    return hashlib.sha256(struct.pack(f"<{len(ids)}i", *ids)).hexdigest()


def window_nll(llm, window):
    llm.reset()
    llm.eval(window)
    logits = np.array(llm.scores[: len(window)], dtype=np.float64)
    m = logits.max(axis=1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(logits - m).sum(axis=1)))
    targets = np.array(window[1:])
    nll = lse[:-1] - logits[np.arange(len(window) - 1), targets]
    return float(nll.sum()), len(window) - 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("sotu_dir")
    parser.add_argument("out")
    parser.add_argument("--tokens", type=int, default=8192)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--slices", type=int, nargs="*", default=[1024])
    parser.add_argument("--kv-f32", action="store_true",
                        help="keep the KV cache in F32 instead of F16")
    args = parser.parse_args()
    kv = {"type_k": 0, "type_v": 0} if args.kv_f32 else {}

    llm = Llama(model_path=args.model, n_ctx=args.window, n_batch=args.window,
                n_ubatch=args.window, logits_all=True, n_threads=args.threads,
                n_threads_batch=args.threads, verbose=False, **kv)
    text, files = load_text(args.sotu_dir)
    all_ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    ids = all_ids[: args.tokens]

    window_sums = []
    scored = 0
    start = time.time()
    for begin in range(0, len(ids) - len(ids) % args.window, args.window):
        total, count = window_nll(llm, ids[begin:begin + args.window])
        window_sums.append(total)
        scored += count
    seconds = time.time() - start
    nll = sum(window_sums)
    result = {
        "model": os.path.basename(args.model),
        "llama_cpp_python": __import__("llama_cpp").__version__,
        "protocol": {"files": files, "joiner": "\\n\\n", "bos": False,
                     "tokens": args.tokens, "window": args.window,
                     "stride": args.window},
        "text_chars": len(text),
        "text_tokens": len(all_ids),
        "ids_sha256": ids_sha256(ids),
        "first_ids": ids[:64],
        "perplexity": math.exp(nll / scored),
        "tokens_scored": scored,
        "window_nll": window_sums,
        "seconds": seconds,
        "tokens_per_second": len(ids) / seconds,
        "threads": args.threads,
        "kv_cache": "f32" if args.kv_f32 else "f16",
    }
    per_window = args.window - 1
    result["slices"] = {}
    for tokens in args.slices:
        windows = tokens // args.window
        result["slices"][str(tokens)] = {
            "ids_sha256": ids_sha256(all_ids[:tokens]),
            "perplexity": math.exp(sum(window_sums[:windows]) /
                                   (windows * per_window)),
            "tokens_scored": windows * per_window,
        }

    # Tokenizer samples.
    result["tokenizer_samples"] = [
        {"text": s,
         "ids": llm.tokenize(s.encode("utf-8"), add_bos=False, special=False)}
        for s in TOKENIZER_SAMPLES]

    # Logits of a short sequence at a few positions, on a fixed id subset.
    seq = ids[:16]
    llm.reset()
    llm.eval(seq)
    logits = np.array(llm.scores[: len(seq)], dtype=np.float64)
    vocab = logits.shape[1]
    check_ids = list(range(0, vocab, 491)) + sorted(set(seq))
    positions = [0, 7, 15]
    result["logits_check"] = {
        "tokens": seq,
        "positions": positions,
        "ids": check_ids,
        "values": [[float(logits[p, i]) for i in check_ids] for p in positions],
        "argmax": [int(logits[p].argmax()) for p in positions],
    }

    # Greedy generation from the first 16 tokens.
    llm.reset()
    gen = []
    llm.eval(seq)
    for _ in range(16):
        nxt = int(np.argmax(np.array(llm.scores[llm.n_tokens - 1])))
        gen.append(nxt)
        llm.eval([nxt])
    result["greedy"] = {"prompt": seq, "tokens": gen}

    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps({k: result[k] for k in
                      ("perplexity", "tokens_scored", "seconds",
                       "tokens_per_second", "text_tokens")}))


if __name__ == "__main__":
    main()
