#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes small GGUF files with tokenizers (and tiny Llama weights of several
ggml types) and the token ids llama.cpp (llama-cpp-python) gives for sample
texts:

  test/Model/Inputs/spm-vocab.gguf        a SentencePiece ("llama") vocabulary
  test/Model/Inputs/bpe-vocab.gguf        a byte-level BPE ("gpt2", smollm
                                          pre-tokenizer) vocabulary
  test/Model/Inputs/tokenizer-llamacpp.json  llama.cpp's ids for the samples
  fuzz/corpus/gguf/seed-*.gguf            the same files, seeds for the fuzzer

Usage: make_tokenizer_fixtures.py REPO_ROOT
"""

import json
import os
import shutil
import sys

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFWriter
from gguf.quants import quantize

RNG = np.random.default_rng(7)

SAMPLES = [
    "Hello world",
    "hello  world, the  and in is!",
    " leading space and trailing ",
    "Qu\u00e9 pasa? \u2014 ZZZ 123",
    "the\nworld\t\tand\n\n",
    "",
    "<s>the</s> world",
]

HIDDEN, INTER, HEADS, KV_HEADS, LAYERS = 32, 32, 2, 1, 1


def add_tiny_llama(w, vocab):
    """A one-block Llama whose linears use several ggml block types."""
    w.add_context_length(64)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(INTER)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(HIDDEN // HEADS)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    head = HIDDEN // HEADS

    def tensor(name, rows, cols, qtype):
        data = (RNG.standard_normal((rows, cols)) * 0.3).astype(np.float32)
        if qtype == Q.F32:
            w.add_tensor(name, data)
        elif qtype == Q.F16:
            w.add_tensor(name, data.astype(np.float16))
        else:
            raw = quantize(data, qtype)
            w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qtype)

    tensor("token_embd.weight", vocab, HIDDEN, Q.Q8_0)
    w.add_tensor("output_norm.weight", np.ones(HIDDEN, dtype=np.float32))
    w.add_tensor("blk.0.attn_norm.weight", np.ones(HIDDEN, dtype=np.float32))
    w.add_tensor("blk.0.ffn_norm.weight", np.ones(HIDDEN, dtype=np.float32))
    tensor("blk.0.attn_q.weight", HEADS * head, HIDDEN, Q.Q4_0)
    tensor("blk.0.attn_k.weight", KV_HEADS * head, HIDDEN, Q.Q4_1)
    tensor("blk.0.attn_v.weight", KV_HEADS * head, HIDDEN, Q.Q5_0)
    tensor("blk.0.attn_output.weight", HIDDEN, HEADS * head, Q.Q5_1)
    tensor("blk.0.ffn_gate.weight", INTER, HIDDEN, Q.Q8_0)
    tensor("blk.0.ffn_up.weight", INTER, HIDDEN, Q.F16)
    tensor("blk.0.ffn_down.weight", HIDDEN, INTER, Q.F32)


def write_spm(path):
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        scores.append(0.0)
        types.append(6)
    pieces = ["\u2581t", "he", "\u2581the", "\u2581a", "an", "nd", "\u2581and",
              "in", "\u2581in", "er", "re", "on", "\u2581w", "or", "ld",
              "\u2581wor", "\u2581world", "\u2581H", "ll", "llo", "\u2581He",
              "\u2581Hello", "is", "\u2581is", "\u2581\u2581", "\u2581th",
              "\u2581\u2581\u2581\u2581", "o", "\u2581"]
    letters = list("abcdefghijklmnoprstuvwxyzABCDEFGHIJKLMNOPRSTUVWXY,.!?123")
    for i, piece in enumerate(pieces):
        tokens.append(piece)
        scores.append(-float(i) + float(RNG.uniform(-0.4, 0.4)))
        types.append(1)
    for c in letters:
        if c in tokens:
            continue
        tokens.append(c)
        scores.append(-100.0 - len(tokens))
        types.append(1)
    w = GGUFWriter(path, "llama")
    w.add_name("spm-fixture")
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_space_prefix(True)
    add_tiny_llama(w, len(tokens))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) +
          list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
          list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def bpe_vocabulary(control, extra_merges=()):
    """A byte-level BPE vocabulary: the `control` tokens (type 3), the 256
    byte tokens, and the products of the fixture's merges (then
    `extra_merges`), in that order. Returns (tokens, types, merges)."""
    byte_map = bytes_to_unicode()
    tokens = list(control)
    types = [3] * len(tokens)
    for b in range(256):
        tokens.append(byte_map[b])
        types.append(1)
    sp = byte_map[ord(" ")]
    merges = [("h", "e"), (sp, "t"), (sp + "t", "he"), ("l", "l"),
              ("o", "r"), (sp, "w"), (sp + "w", "or"), ("l", "d"),
              (sp + "wor", "ld"), ("H", "e"), ("He", "ll"), ("Hell", "o"),
              ("a", "n"), ("an", "d"), (sp, "and"), (sp, sp), ("i", "n"),
              (sp, "in"), ("'", "s"), ("1", "2")] + list(extra_merges)
    for a, b in merges:
        if a + b not in tokens:
            tokens.append(a + b)
            types.append(1)
    return tokens, types, merges


def write_bpe(path):
    tokens, types, merges = bpe_vocabulary(["<|endoftext|>", "<|im_start|>"])
    w = GGUFWriter(path, "llama")
    w.add_name("bpe-fixture")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([f"{a} {b}" for a, b in merges])
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    w.add_add_bos_token(False)
    add_tiny_llama(w, len(tokens))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    root = sys.argv[1]
    inputs = os.path.join(root, "test", "Model", "Inputs")
    corpus = os.path.join(root, "fuzz", "corpus", "gguf")
    os.makedirs(corpus, exist_ok=True)
    from llama_cpp import Llama
    result = {}
    for name, writer in (("spm", write_spm), ("bpe", write_bpe)):
        path = os.path.join(inputs, f"{name}-vocab.gguf")
        writer(path)
        shutil.copy(path, os.path.join(corpus, f"seed-{name}-vocab.gguf"))
        llm = Llama(model_path=path, vocab_only=True, verbose=False)
        result[name] = [
            {"text": s,
             "ids": llm.tokenize(s.encode(), add_bos=False, special=False),
             "ids_bos_special": llm.tokenize(s.encode(), add_bos=True,
                                             special=True)}
            for s in SAMPLES]
    with open(os.path.join(inputs, "tokenizer-llamacpp.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
