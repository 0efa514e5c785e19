#!/usr/bin/env python3
# ===- make_package.py - Write a package of the fake model -------------=== #
#
# Part of the qpal project, under the Apache License v2.0 with LLVM
# Exceptions. See LICENSE for license information.
#
# ===------------------------------------------------------------------=== #
#
# Writes a `.qpal` package (runtime/include/qpalpkg.h, docs/Package.md) of
# the fake model the runtime's tests use: its code is the shared object
# test/Unit/Runtime/Inputs/FakeStep.c builds (entry points of batch 1 and 4),
# or for --target nvptx the one FakeGpuStep.c builds (section "code.nvptx"),
# its vocabulary "<|endoftext|>" (BOS and EOS) and the letters a to o
# (byte-level BPE, no merges), its weights 200 pseudo-random bytes. An
# independent writer: it follows the format's description, not the
# compiler's code.
#
#   make_package.py CODE.so OUT.qpal [--target T] [--chip C] [--context N]
#
# The chip is "x86-64 test" for the CPU and "sm_90" for nvptx unless given.
#
# ===------------------------------------------------------------------=== #

import argparse
import json
import struct
import zlib

ALIGNMENT = 64
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def checksum(data):
    """64-bit FNV-1a (qpalpkgChecksum)."""
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


def vocabulary():
    """The vocabulary in qpaltok's serialization (qpaltok/Tokenizer.h)."""
    texts = [b"<|endoftext|>"] + [bytes([c]) for c in range(ord("a"), ord("o") + 1)]
    types = [3] + [1] * (len(texts) - 1)  # control, then normal

    def string(data):
        return struct.pack("<I", len(data)) + data

    payload = struct.pack("<BBii", 0, 0, 0, 0)  # BPE, no flags, bos, eos
    payload += string(b"gpt2")
    payload += struct.pack("<I", len(texts)) + b"".join(string(t) for t in texts)
    payload += struct.pack("<I", 0)  # no scores
    payload += struct.pack("<I", len(types)) + bytes(types)
    payload += struct.pack("<I", 0)  # no merges
    header = b"QPALTOK\0" + struct.pack("<IIQ", 1, zlib.crc32(payload), len(payload))
    return header + payload


def arena():
    """200 pseudo-random bytes, as PackageTestUtils.h's fakeArena()."""
    state, out = 7, bytearray()
    for _ in range(200):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append(state >> 24)
    return bytes(out)


def manifest(target, chip, context):
    return json.dumps(
        {
            "format_version": 1,
            "qpal_version": "0.1.0-test",
            "target": target,
            "chip": chip,
            "model": {
                "name": "fake-llama",
                "architecture": "llama",
                "vocab_size": 16,
                "hidden_size": 8,
                "layers": 2,
                "heads": 2,
                "kv_heads": 1,
                "head_dim": 3,
                "context_length": context,
                "rope_theta": 10000.0,
                "rms_epsilon": 1e-5,
            },
            "kv_cache": {"planes": 4, "width": 3},
            "entry_points": [
                {"symbol": "_mlir_ciface_qpal_step_b1", "batch": 1},
                {"symbol": "_mlir_ciface_qpal_step_b4", "batch": 4},
            ],
            "bits_per_weight": 4.25,
            "plan": [
                {"layer": "0_self_attn.q_proj", "quantizer": "tcq_6_none_0.9", "group": "blk0.q_k_v"},
                {"layer": "0_self_attn.k_proj", "quantizer": "tcq_6_none_0.9", "group": "blk0.q_k_v"},
                {"layer": "0_mlp.down_proj", "quantizer": "sq_4", "group": "blk0.down"},
            ],
            "weights": [{"name": "blk0.q_k_v.codes", "offset": 0, "bytes": 200}],
        },
        indent=2,
    ).encode()


def package(sections):
    """Lays out `sections` ([(name, bytes)]) as qpalpkg.h describes: the
    header, the table right after it, each section at the next multiple of
    64, zero padded."""
    table_offset = 64
    body_offset = table_offset + 64 * len(sections)
    body, table = bytearray(), bytearray()
    for name, data in sections:
        offset = body_offset + len(body)
        offset = (offset + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        body += b"\0" * (offset - body_offset - len(body))
        table += struct.pack("<32sQQQQ", name.encode(), offset, len(data), checksum(data), 0)
        body += data
    file_bytes = body_offset + len(body)
    head = b"QPALPKG\0" + struct.pack(
        "<IIQQIIQQ", 1, 64, file_bytes, table_offset, len(sections), 0, checksum(table), 0
    )
    return head + struct.pack("<Q", checksum(head)) + table + body


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("code")
    parser.add_argument("output")
    parser.add_argument("--target", default="cpu")
    parser.add_argument("--chip")
    parser.add_argument("--context", type=int, default=32)
    args = parser.parse_args()
    with open(args.code, "rb") as f:
        code = f.read()
    chip = args.chip or ("sm_90" if args.target == "nvptx" else "x86-64 test")
    sections = [
        ("manifest", manifest(args.target, chip, args.context)),
        ("tokenizer", vocabulary()),
        ("code." + args.target, code),
        ("weights", arena()),
    ]
    with open(args.output, "wb") as f:
        f.write(package(sections))


if __name__ == "__main__":
    main()
