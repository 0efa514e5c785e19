#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes the seed corpora of the fuzz harnesses that read qpal's own inputs:

  fuzz/corpus/plan         plans: every quantizer of `qpal palette --all`
  fuzz/corpus/sensitivity  sensitivity tables (test inputs, the reference's)
  fuzz/corpus/latency      latency tables (a test's, a slice of the 4090's)
  fuzz/corpus/distortion   the reference's distortion table
  fuzz/corpus/hessian      small .qpalh files, whole and as sealed bodies
  fuzz/corpus/tokenizer    texts, each behind a vocabulary-selector byte
  fuzz/corpus/dialect      the split inputs of test/Dialect/*.mlir

Usage: fuzz/make_seeds.py QPAL_BINARY SHARED_DIR   (from the repository root)
Seeds are named seed-*; files the fuzzer adds (min-*, crash reproducers) are
kept beside them.
"""

import glob
import json
import os
import struct
import subprocess
import sys

qpal, shared = sys.argv[1], sys.argv[2]
root = "fuzz/corpus"


def write(kind, name, data):
    os.makedirs(os.path.join(root, kind), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(root, kind, "seed-" + name), mode) as f:
        f.write(data)


def compact(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# Plans: one layer key per quantizer name, plain and wrapped as `qpal
# allocate --json` writes it.
members = json.loads(subprocess.check_output([qpal, "palette", "--all", "--json"]))
names = [m["name"] for m in members]
roles = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
         "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
plan = {f"{i // 7}_{roles[i % 7]}": name for i, name in enumerate(names)}
plan["lm_head"] = "f16"
write("plan", "families.json", compact(plan))
write("plan", "wrapped.json", compact({"plan": {"0_mlp.up_proj": "tcq_6_none_1.2:3inst"},
                                       "budget_bits": 3.25}))
write("plan", "tiny-hess.json", open("test/Tools/Inputs/tiny-hess-plan.json").read())

for path in ["test/Tools/Inputs/tiny-llama-sensitivity.json",
             "test/Tools/Inputs/sensitivity-two-blocks.json",
             "test/Passes/Inputs/attach-sensitivity.json"]:
    write("sensitivity", os.path.basename(path), open(path).read())
write("sensitivity", "llama31-8b.json",
      open(os.path.join(shared, "reference/data/llama31_8b_sensitivity.json")).read())

write("latency", "allocate-bits.json",
      open("test/Passes/Inputs/allocate-bits-latency.json").read())
table = json.load(open(os.path.join(shared, "reference/data/llama31_8b_latency_rtx4090.json")))
small = {"constant_s": table["constant_s"], "groups": table["groups"],
         "latency_s": {g: dict(list(q.items())[:3]) for g, q in table["latency_s"].items()}}
write("latency", "rtx4090-slice.json", compact(small))

write("distortion", "reference.json",
      open(os.path.join(shared, "reference/data/quantizer_distortion.json")).read())

# .qpalh: magic, version 1, count, then per input: name length, name, n,
# tokens, n means and the n(n+1)/2 lower-triangle second moments (float32),
# then FNV-1a 64 of everything before it.
def hessian_body(inputs):
    body = struct.pack("<II", 1, len(inputs))
    for name, n in inputs:
        body += struct.pack("<I", len(name)) + name.encode()
        body += struct.pack("<QQ", n, 100)
        body += struct.pack(f"<{n}f", *[0.25 * i for i in range(n)])
        body += struct.pack(f"<{n * (n + 1) // 2}f",
                            *[1.0 + 0.5 * k for k in range(n * (n + 1) // 2)])
    return body


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


for label, inputs in [("one", [("0_qkv", 3)]),
                      ("block", [("0_qkv", 4), ("0_o", 2), ("0_up", 4), ("0_down", 1), ("head", 2)])]:
    body = hessian_body(inputs)
    whole = b"QPALHESS" + body
    write("hessian", label + ".qpalh", whole + struct.pack("<Q", fnv1a(whole)))
    write("hessian", label + ".body", body)

sotu = sorted(glob.glob(os.path.join(shared, "data/sotu/2001_*.txt")))
texts = ["Hello world", "hello  world, the  and in is!", "caf\u00e9 \u2014 na\u00efve 12345",
         "<|im_start|>user\nWhat is 2+2?<|im_end|>", "\t\n  \r\n x",
         open(sotu[0], errors="replace").read()[:600] if sotu else "Mr. Speaker"]
for i, text in enumerate(texts):
    for selector in range(2):
        write("tokenizer", f"{i}-{selector}.txt", bytes([selector]) + text.encode())

for path in sorted(glob.glob("test/Dialect/**/*.mlir", recursive=True)):
    parts = open(path).read().split("// -----")
    for k, part in enumerate(parts):
        lines = [l for l in part.splitlines() if not l.lstrip().startswith("// RUN")]
        write("dialect", f"{os.path.basename(path)[:-5]}-{k}.mlir", "\n".join(lines) + "\n")
