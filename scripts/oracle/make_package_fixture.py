#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes test/Model/Inputs/tiny-llama-vocab.gguf: the tiny Llama of
make_model_fixtures.py (its tensors and metadata, copied unchanged from
tiny-llama.gguf) with a 64-token byte-level BPE vocabulary, so that the
compile -> package -> qpal-run tests can tokenize text on a model small
enough for every test run.

The vocabulary: three control tokens (<|endoftext|> is BOS and EOS,
<|im_start|>, <|im_end|>), the letters a-z, space, newline, '.', ',', and
31 merges of common English pairs. Text made of those characters tokenizes
without loss.

With --embedding-type T (q4_0, q4_1, q5_0, q5_1, q8_0), token_embd.weight is
quantized to T by the `gguf` package: the tables compiled packages keep in
the model file's format and decode in place
(test/Model/Inputs/tiny-llama-vocab-embd-T.gguf).

Usage: make_package_fixture.py IN.gguf OUT.gguf [--embedding-type T]
"""

import argparse

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader, GGUFValueType as V, GGUFWriter
from gguf.quants import dequantize, quantize

CONTROL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SINGLES = list("abcdefghijklmnopqrstuvwxyz") + ["\u0120", "\u010a", ".", ","]
MERGES = [
    ("\u0120", "t"), ("t", "h"), ("h", "e"), ("\u0120", "a"), ("i", "n"),
    ("e", "r"), ("a", "n"), ("o", "n"), ("r", "e"), ("\u0120t", "he"),
    ("\u0120", "s"), ("e", "n"), ("a", "t"), ("o", "r"), ("e", "s"),
    ("\u0120", "o"), ("\u0120", "w"), ("i", "s"), ("e", "d"), ("i", "t"),
    ("a", "r"), ("\u0120", "c"), ("n", "d"), ("\u0120", "i"), ("o", "u"),
    ("a", "l"), ("\u0120", "f"), ("\u0120", "p"), ("in", "g"),
    ("\u0120a", "nd"), ("\u0120", "b"),
]


def main(src, dst, embedding_type=None):
    reader = GGUFReader(src)
    writer = GGUFWriter(dst, "llama")
    skip = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count",
            "general.architecture"}
    for name, field in reader.fields.items():
        if name in skip or name.startswith("tokenizer."):
            continue
        kind = field.types[0]
        if kind == V.STRING:
            writer.add_key_value(name, bytes(field.parts[-1]).decode(), kind)
        elif kind == V.ARRAY:
            raise SystemExit(f"unexpected array field {name}")
        else:
            writer.add_key_value(name, field.parts[-1][0], kind)
    tokens = CONTROL + SINGLES + [a + b for a, b in MERGES]
    assert len(tokens) == 64 and len(set(tokens)) == 64, len(tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types([3] * len(CONTROL) +
                           [1] * (len(tokens) - len(CONTROL)))
    writer.add_token_merges([f"{a} {b}" for a, b in MERGES])
    writer.add_bos_token_id(0)
    writer.add_eos_token_id(0)
    writer.add_add_bos_token(False)
    for tensor in reader.tensors:
        data = np.array(tensor.data)
        if tensor.name == "token_embd.weight" and embedding_type is not None:
            qtype = Q[embedding_type.upper()]
            values = dequantize(data, tensor.tensor_type).astype(np.float32)
            writer.add_tensor(tensor.name, quantize(values, qtype),
                              raw_dtype=qtype)
            continue
        writer.add_tensor(tensor.name, data,
                          raw_shape=list(reversed(tensor.shape.tolist())),
                          raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--embedding-type",
                        choices=["q4_0", "q4_1", "q5_0", "q5_1", "q8_0"])
    args = parser.parse_args()
    main(args.src, args.dst, args.embedding_type)
