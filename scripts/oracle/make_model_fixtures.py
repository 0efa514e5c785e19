#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes the small fixtures of qpal's model-reader unit tests into
test/Model/Inputs/, with expected values computed independently of qpal (the
`gguf` package's dequantizers, numpy's float64 Llama forward pass).

  dequant.gguf             one tensor of random blocks per ggml type, its
                           `<type>.expected` F32 dequantization, and one
                           metadata key of every GGUF value type
  tiny-llama/              a 2-block Llama (GQA, llama3 RoPE scaling) as
                           Hugging Face config.json + BF16 model.safetensors
  tiny-llama-sharded/      the same weights as F32, in two shards + index
  tiny-llama.gguf          the same weights as llama.cpp's converter writes
                           them: GGUF names, F16, q/k rows permuted for
                           adjacent-pair RoPE, rope_freqs.weight
  tiny-llama-reference.json  logits of a token sequence from numpy

Usage: make_model_fixtures.py OUT_DIR
"""

import json
import math
import os
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V
from gguf import GGUFWriter
from gguf.quants import dequantize

RNG = np.random.default_rng(20250907)

# (type, block bytes, block elements, [(offset, kind)] of scale fields)
BLOCK_TYPES = [
    (Q.Q4_0, 18, 32, [(0, "f16")]),
    (Q.Q4_1, 20, 32, [(0, "f16"), (2, "f16")]),
    (Q.Q5_0, 22, 32, [(0, "f16")]),
    (Q.Q5_1, 24, 32, [(0, "f16"), (2, "f16")]),
    (Q.Q8_0, 34, 32, [(0, "f16")]),
    (Q.Q2_K, 84, 256, [(80, "f16"), (82, "f16")]),
    (Q.Q3_K, 110, 256, [(108, "f16")]),
    (Q.Q4_K, 144, 256, [(0, "f16"), (2, "f16")]),
    (Q.Q5_K, 176, 256, [(0, "f16"), (2, "f16")]),
    (Q.Q6_K, 210, 256, [(208, "f16")]),
]


def random_blocks(block_bytes, scales, count):
    raw = bytearray(RNG.integers(0, 256, size=block_bytes * count,
                                 dtype=np.uint8).tobytes())
    for b in range(count):
        for offset, kind in scales:
            value = float(RNG.uniform(-0.05, 0.05))
            at = b * block_bytes + offset
            if kind == "f16":
                raw[at:at + 2] = np.float16(value).tobytes()
            else:
                raw[at:at + 4] = np.float32(value).tobytes()
    return np.frombuffer(bytes(raw), dtype=np.uint8)


def write_dequant(out_dir):
    w = GGUFWriter(os.path.join(out_dir, "dequant.gguf"), "qpal-fixture")
    # One key of every value type, and arrays.
    w.add_key_value("test.u8", 200, V.UINT8)
    w.add_key_value("test.i8", -100, V.INT8)
    w.add_key_value("test.u16", 60000, V.UINT16)
    w.add_key_value("test.i16", -30000, V.INT16)
    w.add_key_value("test.u32", 4000000000, V.UINT32)
    w.add_key_value("test.i32", -2000000000, V.INT32)
    w.add_key_value("test.f32", 0.15625, V.FLOAT32)
    w.add_key_value("test.bool", True, V.BOOL)
    w.add_key_value("test.string", "h\u00e9llo", V.STRING)
    w.add_key_value("test.u64", 18000000000000000000, V.UINT64)
    w.add_key_value("test.i64", -9000000000000000000, V.INT64)
    w.add_key_value("test.f64", -2.5e-300, V.FLOAT64)
    w.add_key_value("test.array_i32", [1, -2, 3], V.ARRAY, sub_type=V.INT32)
    w.add_key_value("test.array_f32", [0.5, -1.25], V.ARRAY, sub_type=V.FLOAT32)
    w.add_key_value("test.array_str", ["a", "", "xyz"], V.ARRAY,
                    sub_type=V.STRING)
    w.add_key_value("test.array_bool", [True, False], V.ARRAY,
                    sub_type=V.BOOL)
    for qtype, block_bytes, block_elems, scales in BLOCK_TYPES:
        rows, blocks_per_row = 2, 2
        raw = random_blocks(block_bytes, scales, rows * blocks_per_row)
        raw = raw.reshape(rows, blocks_per_row * block_bytes)
        expected = dequantize(raw, qtype).astype(np.float32)
        assert expected.shape == (rows, blocks_per_row * block_elems)
        name = qtype.name.lower().replace("_k", "_K")
        w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qtype)
        w.add_tensor(name + ".expected", expected)
    plain = RNG.standard_normal((3, 8)).astype(np.float32)
    w.add_tensor("f32", plain)
    w.add_tensor("f32.expected", plain)
    w.add_tensor("f16", plain.astype(np.float16))
    w.add_tensor("f16.expected", plain.astype(np.float16).astype(np.float32))
    bf16 = (plain.view(np.uint32) >> 16).astype(np.uint16)
    w.add_tensor("bf16", bf16, raw_shape=bf16.shape, raw_dtype=Q.BF16)
    w.add_tensor("bf16.expected",
                 (bf16.astype(np.uint32) << 16).view(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# The tiny Llama.
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "vocab_size": 64,
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 16},
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}


def bf16_round(x):
    """Rounds to bf16 values that F16 also represents exactly."""
    bits = x.astype(np.float32).view(np.uint32)
    bits = ((bits + 0x8000) & 0xFFFF0000).astype(np.uint32)
    y = bits.view(np.float32)
    y[np.abs(y) < 2.0 ** -12] = 0.0
    return y


def tiny_weights():
    c = CONFIG
    h, i, hd = c["hidden_size"], c["intermediate_size"], c["head_dim"]
    nh, nkv, v = (c["num_attention_heads"], c["num_key_value_heads"],
                  c["vocab_size"])
    w = {}

    def rand(*shape, scale=0.2):
        return bf16_round(RNG.standard_normal(shape) * scale)

    w["model.embed_tokens.weight"] = rand(v, h, scale=1.0)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = bf16_round(1 + rand(h, scale=0.1))
        w[p + "post_attention_layernorm.weight"] = bf16_round(
            1 + rand(h, scale=0.1))
        w[p + "self_attn.q_proj.weight"] = rand(nh * hd, h)
        w[p + "self_attn.k_proj.weight"] = rand(nkv * hd, h)
        w[p + "self_attn.v_proj.weight"] = rand(nkv * hd, h)
        w[p + "self_attn.o_proj.weight"] = rand(h, nh * hd)
        w[p + "mlp.gate_proj.weight"] = rand(i, h)
        w[p + "mlp.up_proj.weight"] = rand(i, h)
        w[p + "mlp.down_proj.weight"] = rand(h, i)
    w["model.norm.weight"] = bf16_round(1 + rand(h, scale=0.1))
    w["lm_head.weight"] = rand(v, h)
    return w


def llama3_inv_freq(c):
    hd, base = c["head_dim"], c["rope_theta"]
    s = c["rope_scaling"]
    inv = 1.0 / base ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    orig, lo, hi, f = (s["original_max_position_embeddings"],
                       s["low_freq_factor"], s["high_freq_factor"],
                       s["factor"])
    out, factors = [], []
    for freq in inv:
        wavelen = 2 * math.pi / freq
        if wavelen < orig / hi:
            out.append(freq)
            factors.append(1.0)
        elif wavelen > orig / lo:
            out.append(freq / f)
            factors.append(f)
        else:
            smooth = (orig / wavelen - lo) / (hi - lo)
            out.append((1 - smooth) * freq / f + smooth * freq)
            factors.append(1 / ((1 - smooth) / f + smooth))
    return np.array(out), np.array(factors, dtype=np.float32)


def forward(w, tokens):
    """Hugging Face LlamaForCausalLM in float64 numpy."""
    c = CONFIG
    nh, nkv, hd = (c["num_attention_heads"], c["num_key_value_heads"],
                   c["head_dim"])
    eps = c["rms_norm_eps"]
    inv, _ = llama3_inv_freq(c)
    T = len(tokens)
    pos = np.arange(T)[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(pos)] * 2, axis=1)
    sin = np.concatenate([np.sin(pos)] * 2, axis=1)

    def rope(x):  # x: [heads, T, hd]
        half = hd // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        return x * cos + rot * sin

    def norm(x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g

    W = {k: v.astype(np.float64) for k, v in w.items()}
    x = W["model.embed_tokens.weight"][tokens]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        hn = norm(x, W[p + "input_layernorm.weight"])
        q = (hn @ W[p + "self_attn.q_proj.weight"].T).reshape(T, nh, hd)
        k = (hn @ W[p + "self_attn.k_proj.weight"].T).reshape(T, nkv, hd)
        v = (hn @ W[p + "self_attn.v_proj.weight"].T).reshape(T, nkv, hd)
        q, k, v = (rope(q.transpose(1, 0, 2)), rope(k.transpose(1, 0, 2)),
                   v.transpose(1, 0, 2))
        k = np.repeat(k, nh // nkv, axis=0)
        v = np.repeat(v, nh // nkv, axis=0)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(T, nh * hd)
        x = x + a @ W[p + "self_attn.o_proj.weight"].T
        hn = norm(x, W[p + "post_attention_layernorm.weight"])
        g = hn @ W[p + "mlp.gate_proj.weight"].T
        u = hn @ W[p + "mlp.up_proj.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ W[p + "mlp.down_proj.weight"].T
    x = norm(x, W["model.norm.weight"])
    return x @ W["lm_head.weight"].T


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        arr = tensors[name].astype(np.float32)
        if dtype == "BF16":
            data = (arr.view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            data = arr.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def permute(w, n_head):
    """llama.cpp's convert_hf_to_gguf.py LlamaModel.permute."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


GGUF_NAMES = {
    "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def write_gguf_model(path, w):
    c = CONFIG
    g = GGUFWriter(path, "llama")
    g.add_name("tiny-llama")
    g.add_context_length(c["max_position_embeddings"])
    g.add_embedding_length(c["hidden_size"])
    g.add_block_count(c["num_hidden_layers"])
    g.add_feed_forward_length(c["intermediate_size"])
    g.add_head_count(c["num_attention_heads"])
    g.add_head_count_kv(c["num_key_value_heads"])
    g.add_rope_dimension_count(c["head_dim"])
    g.add_key_length(c["head_dim"])
    g.add_value_length(c["head_dim"])
    g.add_rope_freq_base(c["rope_theta"])
    g.add_layer_norm_rms_eps(c["rms_norm_eps"])
    g.add_vocab_size(c["vocab_size"])
    _, factors = llama3_inv_freq(c)
    g.add_tensor("rope_freqs.weight", factors)
    g.add_tensor("token_embd.weight",
                 w["model.embed_tokens.weight"].astype(np.float16))
    for l in range(c["num_hidden_layers"]):
        for hf, gg in GGUF_NAMES.items():
            t = w[f"model.layers.{l}.{hf}.weight"]
            if hf == "self_attn.q_proj":
                t = permute(t, c["num_attention_heads"])
            if hf == "self_attn.k_proj":
                t = permute(t, c["num_key_value_heads"])
            dtype = np.float32 if t.ndim == 1 else np.float16
            g.add_tensor(f"blk.{l}.{gg}.weight", t.astype(dtype))
    g.add_tensor("output_norm.weight", w["model.norm.weight"])
    g.add_tensor("output.weight", w["lm_head.weight"].astype(np.float16))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def write_tiny(out_dir):
    w = tiny_weights()
    single = os.path.join(out_dir, "tiny-llama")
    sharded = os.path.join(out_dir, "tiny-llama-sharded")
    for d in (single, sharded):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(CONFIG, f, indent=1)
            f.write("\n")
    write_safetensors(os.path.join(single, "model.safetensors"), w, "BF16")
    names = sorted(w)
    first = {n: w[n] for n in names if "layers.1." not in n}
    second = {n: w[n] for n in names if "layers.1." in n}
    shard_names = ["model-00001-of-00002.safetensors",
                   "model-00002-of-00002.safetensors"]
    write_safetensors(os.path.join(sharded, shard_names[0]), first, "F32")
    write_safetensors(os.path.join(sharded, shard_names[1]), second, "F32")
    index = {"metadata": {"total_size": 4 * sum(v.size for v in w.values())},
             "weight_map": {n: shard_names[1 if n in second else 0]
                            for n in names}}
    with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    write_gguf_model(os.path.join(out_dir, "tiny-llama.gguf"), w)

    tokens = [int(t) for t in RNG.integers(0, CONFIG["vocab_size"], 12)]
    logits = forward(w, tokens)
    ref = {"tokens": tokens,
           "logits": [[float(v) for v in row] for row in logits],
           "q_proj_0_row_5": [float(v) for v in
                              w["model.layers.0.self_attn.q_proj.weight"][5]]}
    with open(os.path.join(out_dir, "tiny-llama-reference.json"), "w") as f:
        json.dump(ref, f)
        f.write("\n")


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    write_dequant(out_dir)
    write_tiny(out_dir)


if __name__ == "__main__":
    main()
