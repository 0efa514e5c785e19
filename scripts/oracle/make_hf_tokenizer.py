#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes the Hugging Face `tokenizer.json` of a GGUF file's vocabulary, as
transformers' converters would for the same tokenizer:

  "gpt2" (byte-level BPE)   model BPE (vocab, merges), pre-tokenizer
                            ByteLevel (with Digits(individual) first for the
                            digit-splitting pre-tokenizers such as "smollm";
                            for Llama 3's "llama-bpe", Split(Llama 3's regex)
                            then ByteLevel, and ignore_merges), decoder
                            ByteLevel
  "llama" (SentencePiece)   model BPE with byte_fallback and unk_token, the
                            merges every pair of pieces whose concatenation
                            is a piece, ordered by that piece's score (as
                            transformers' SentencePieceExtractor), the
                            normalizer Prepend("\u2581") + Replace(" ",
                            "\u2581") when the vocabulary adds a space
                            prefix, decoders Replace/ByteFallback/Fuse/Strip

Control tokens become special added tokens; a BOS the model adds becomes a
TemplateProcessing post-processor; tokenizer_config.json names the BOS and
EOS. The fixtures of the tokenizer.json tests are made by this script from
the GGUF fixtures (and from SmolLM2's file when present); HF's own
`tokenizers` reads what it writes.

Usage: make_hf_tokenizer.py MODEL.gguf OUTDIR
  writes OUTDIR/tokenizer.json and OUTDIR/tokenizer_config.json
"""

import json
import os
import sys

from gguf import GGUFReader

DIGIT_SPLITTING = {"smollm", "starcoder", "refact", "command-r", "codeshell",
                   "exaone", "minerva"}
GPT2 = {"gpt-2", "gpt2", "mpt", "olmo", "jais"}
LLAMA3 = {"llama3", "llama-v3", "llama-bpe"}
# Llama 3's pre-tokenizer regex, as Meta's tokenizer.json spells it.
LLAMA3_REGEX = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                "\\s+(?!\\S)|\\s+")


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    if len(f.data) == 1 and f.types and f.types[0].name != "ARRAY":
        value = f.parts[f.data[0]]
        if f.types[0].name == "STRING":
            return bytes(value).decode("utf-8")
        return value.tolist()[0]
    values = [f.parts[i] for i in f.data]
    if f.types[-1].name == "STRING":
        return [bytes(v).decode("utf-8") for v in values]
    return [v.tolist()[0] for v in values]


def added_tokens(tokens, types):
    # Control (3) and user-defined (4) tokens are added tokens; control
    # ones are special.
    return [{"id": i, "content": t, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": types[i] == 4,
             "special": types[i] == 3}
            for i, t in enumerate(tokens) if types[i] in (3, 4)]


def post_processor(tokens, add_bos, bos):
    if not add_bos or bos is None or bos < 0:
        return None
    b = tokens[bos]
    return {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": b, "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": b, "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": b, "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {b: {"id": b, "ids": [bos], "tokens": [b]}}}


def bpe(reader, tokens, types):
    pre = field(reader, "tokenizer.ggml.pre", "gpt-2")
    byte_level = {"type": "ByteLevel", "add_prefix_space": False,
                  "trim_offsets": True, "use_regex": True}
    ignore_merges = False
    if pre in DIGIT_SPLITTING:
        pre_tokenizer = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]}
    elif pre in LLAMA3:
        # Meta's form: the regex in a Split, ByteLevel without its own, and
        # whole words looked up before merging.
        pre_tokenizer = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX},
             "behavior": "Isolated", "invert": False},
            dict(byte_level, use_regex=False)]}
        ignore_merges = True
    elif pre in GPT2:
        pre_tokenizer = byte_level
    else:
        sys.exit("make_hf_tokenizer: pre-tokenizer '%s' has no known "
                 "tokenizer.json form" % pre)
    merges = field(reader, "tokenizer.ggml.merges", [])
    return {
        "normalizer": None,
        "pre_tokenizer": pre_tokenizer,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                    "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": ignore_merges,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": [m.split(" ", 1) for m in merges]},
    }


def sentencepiece(reader, tokens, types):
    scores = field(reader, "tokenizer.ggml.scores")
    unk = field(reader, "tokenizer.ggml.unknown_token_id", 0)
    prefix = bool(field(reader, "tokenizer.ggml.add_space_prefix", True))
    pieces = {t: i for i, t in enumerate(tokens) if types[i] in (1, 4, 5)}
    # transformers' SentencePieceExtractor: every split of every piece into
    # two pieces, ordered by the merged piece's score (then its id), and
    # for one piece by the left part's id, then the right part's.
    merges = []
    for piece, i in pieces.items():
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in pieces and right in pieces:
                merges.append((-scores[i], i, pieces[left], pieces[right],
                               left, right))
    merges.sort()
    normalizer = None
    if prefix:
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "},
             "content": "\u2581"}]}
    return {
        "normalizer": normalizer,
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"},
             "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": tokens[unk],
                  "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True,
                  "byte_fallback": True, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": [[m[4], m[5]] for m in merges]},
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    reader = GGUFReader(sys.argv[1])
    kind = field(reader, "tokenizer.ggml.model")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type", [1] * len(tokens))
    if kind == "gpt2":
        body = bpe(reader, tokens, types)
    elif kind == "llama":
        body = sentencepiece(reader, tokens, types)
    else:
        sys.exit("make_hf_tokenizer: tokenizer model '%s' is not supported"
                 % kind)
    bos = field(reader, "tokenizer.ggml.bos_token_id")
    add_bos = bool(field(reader, "tokenizer.ggml.add_bos_token", False))
    out = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": added_tokens(tokens, types),
           "normalizer": body["normalizer"],
           "pre_tokenizer": body["pre_tokenizer"],
           "post_processor": post_processor(tokens, add_bos, bos),
           "decoder": body["decoder"],
           "model": body["model"]}
    eos = field(reader, "tokenizer.ggml.eos_token_id")
    config = {"add_bos_token": add_bos, "add_eos_token": False,
              "tokenizer_class": "PreTrainedTokenizerFast"}
    if bos is not None and 0 <= bos < len(tokens):
        config["bos_token"] = tokens[bos]
    if eos is not None and 0 <= eos < len(tokens):
        config["eos_token"] = tokens[eos]
    os.makedirs(sys.argv[2], exist_ok=True)
    for name, value in (("tokenizer.json", out),
                        ("tokenizer_config.json", config)):
        with open(os.path.join(sys.argv[2], name), "w",
                  encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
