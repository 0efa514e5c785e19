#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes a small byte-level BPE vocabulary with Llama 3's pre-tokenizer
("llama-bpe": Llama 3's regex, whole words looked up before merging) and the
ids llama.cpp (llama-cpp-python) gives for sample texts:

  test/Model/Inputs/llama3-vocab.gguf
  test/Model/Inputs/tokenizer-llamacpp-llama3.json

The vocabulary is make_tokenizer_fixtures.py's BPE one plus tokens that no
merge makes ("world", "123"), which only the whole-word lookup finds.

Usage: make_llama3_tokenizer_fixture.py REPO_ROOT
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_fixtures as base  # noqa: E402
from gguf import GGUFWriter  # noqa: E402

SAMPLES = base.SAMPLES + [
    "DON'T you SEE it'S 12345 and 1234567?",
    "$hello (world) world!!\n\n  next\r\nline",
    "a\n\n\n b  \n c   d",
    "x = [1, 22, 333, 4444];",
    "\u00bfQu\u00e9? \u00dcber \u4e16\u754c 12\u00b3",
]


def write_llama3(path):
    tokens, types, merges = base.bpe_vocabulary(
        ["<|begin_of_text|>", "<|end_of_text|>"], extra_merges=[("'", "t")])
    for whole in ["world", "123", "hello"]:
        tokens.append(whole)
        types.append(1)
    w = GGUFWriter(path, "llama")
    w.add_name("llama3-bpe-fixture")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([f"{a} {b}" for a, b in merges])
    w.add_bos_token_id(0)
    w.add_eos_token_id(1)
    w.add_add_bos_token(True)
    base.add_tiny_llama(w, len(tokens))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    inputs = os.path.join(sys.argv[1], "test", "Model", "Inputs")
    path = os.path.join(inputs, "llama3-vocab.gguf")
    write_llama3(path)
    from llama_cpp import Llama
    llm = Llama(model_path=path, vocab_only=True, verbose=False)
    result = {"llama3": [
        {"text": s,
         "ids": llm.tokenize(s.encode(), add_bos=False, special=False),
         "ids_bos_special": llm.tokenize(s.encode(), add_bos=True,
                                         special=True)}
        for s in SAMPLES]}
    with open(os.path.join(inputs, "tokenizer-llamacpp-llama3.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
