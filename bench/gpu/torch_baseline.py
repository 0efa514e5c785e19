#!/usr/bin/env python3
"""The two baselines of bench/results/gpu-kernels-*.md, measured on the GPU.

- DRAM bandwidth: a device-to-device copy of 1 GiB (bytes read + written),
  and a read-only pass (a sum over 1 GiB), the pattern of a GEMV.
- fp16 GEMV/GEMM through PyTorch (cuBLAS): y = x @ W^T, W fp16 [M, K], x fp16
  [batch, K], for each benchmark shape and batch (1-32, and 64-256 for the
  large-batch comparison), and each Llama-3.1-8B fusion-group shape at batch
  1, rotating through enough copies of W that they do not stay in L2,
  replayed as a CUDA graph so that launch overhead stays out (as
  qpal-gpu-kernels times its kernels).
- The rest of a Llama-3.1-8B decode step: everything but the 7 linears of
  each block (embedding row, RMSNorms, RoPE, the KV-cache write, GQA
  attention over a 1024-token cache, SwiGLU's product, residual adds, the
  final norm and the fp16 LM head), fp16 eager PyTorch ops captured as one
  CUDA graph: the constant of a latency table on this GPU.

Prints a table and writes the numbers as JSON (--json).
"""
import argparse
import json
import math
import statistics

import torch

# bench/gpu/make_kernels.py's BENCH_SHAPES, then the rest of its
# LATENCY_SHAPES (Llama-3.1-8B's fusion groups).
SHAPES = [(4096, 4096), (14336, 4096), (4096, 14336), (6144, 4096),
          (28672, 4096)]
LATENCY_ONLY_SHAPES = [(1024, 4096), (2048, 4096), (5120, 4096)]
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def time_graph(fn, calls_per_replay, repeats=5, target_ms=20.0):
    """Median microseconds per call of `fn` (one round of calls) in a graph."""
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        fn()  # warm-up outside the capture (cuBLAS handles, workspaces)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    graph.replay()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(True), torch.cuda.Event(True)
    start.record()
    graph.replay()
    stop.record()
    stop.synchronize()
    once = max(start.elapsed_time(stop), 1e-3)
    replays = max(2, min(2000, int(target_ms / once)))
    times = []
    for _ in range(repeats):
        start.record()
        for _ in range(replays):
            graph.replay()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1000.0 / (replays * calls_per_replay))
    return statistics.median(times), min(times), max(times)


def llama8b_rest_of_step(context=1024):
    """Microseconds of one Llama-3.1-8B decode step without its linears."""
    import torch.nn.functional as F
    d, heads, kv_heads, hd, ff, vocab, blocks = 4096, 32, 8, 128, 14336, 128256, 32
    f16 = dict(device="cuda", dtype=torch.float16)
    embedding = torch.randn(vocab, d, **f16)
    head = torch.randn(vocab, d, **f16)  # Llama-3.1-8B's head is not tied
    norms = torch.rand(2 * blocks + 1, d, **f16) + 0.5
    k_cache = torch.randn(blocks, 1, kv_heads, context, hd, **f16)
    v_cache = torch.randn(blocks, 1, kv_heads, context, hd, **f16)
    # The linears' outputs, which the quantized kernels would produce.
    q = torch.randn(1, heads, 1, hd, **f16)
    k = torch.randn(1, kv_heads, 1, hd, **f16)
    v = torch.randn(1, kv_heads, 1, hd, **f16)
    gate, up = torch.randn(1, ff, **f16), torch.randn(1, ff, **f16)
    down = torch.randn(1, d, **f16)
    token = torch.tensor([1234], device="cuda")
    position = torch.tensor([context - 1], device="cuda")
    inv = 1.0 / (500000.0 ** (torch.arange(0, hd, 2, device="cuda") / hd))
    angles = position.float()[:, None] * inv[None, :]
    cos, sin = angles.cos().half(), angles.sin().half()

    def rms(x, w):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-5)).half() * w

    def rope(t):
        even, odd = t[..., 0::2], t[..., 1::2]
        return torch.stack((even * cos - odd * sin, even * sin + odd * cos), -1).flatten(-2)

    def step():
        h = embedding[token]
        for b in range(blocks):
            x = rms(h, norms[2 * b])
            qr, kr = rope(q + x[..., :hd].view(1, 1, 1, hd)), rope(k)
            k_cache[b].index_copy_(2, position, kr)
            v_cache[b].index_copy_(2, position, v)
            o = F.scaled_dot_product_attention(qr, k_cache[b], v_cache[b],
                                               enable_gqa=True)
            h = h + o.reshape(1, d)
            x = rms(h, norms[2 * b + 1])
            mlp = F.silu(gate + x[..., :1].float().half()) * up
            h = h + down + mlp[..., :d]
        return rms(h, norms[-1]) @ head.t()

    median, low, high = time_graph(step, 1, repeats=5, target_ms=50.0)
    return {"context": context, "microseconds": median, "min_us": low,
            "max_us": high}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    assert torch.cuda.is_available(), "no CUDA GPU"
    props = torch.cuda.get_device_properties(0)
    l2 = getattr(props, "L2_cache_size", 50 * 2**20)
    result = {"device": props.name, "sms": props.multi_processor_count,
              "l2_bytes": l2, "torch": torch.__version__,
              "cuda": torch.version.cuda, "gemv": []}

    # DRAM copy bandwidth.
    n = 2**30 // 4
    a = torch.randn(n, device="cuda")
    b = torch.empty_like(a)
    median, low, high = time_graph(lambda: b.copy_(a), 1)
    result["copy_gbps"] = 2 * n * 4 / (median * 1e-6) / 1e9
    result["copy_gbps_range"] = [2 * n * 4 / (high * 1e-6) / 1e9,
                                 2 * n * 4 / (low * 1e-6) / 1e9]
    print("device-to-device copy: %.1f GB/s (read + write; %.1f-%.1f)" % (
        result["copy_gbps"], *result["copy_gbps_range"]))
    # Read bandwidth: a sum over 1 GiB reads it once and writes one value,
    # the traffic pattern of a weight-streaming GEMV.
    median, low, high = time_graph(lambda: a.sum(), 1)
    result["read_gbps"] = n * 4 / (median * 1e-6) / 1e9
    result["read_gbps_range"] = [n * 4 / (high * 1e-6) / 1e9, n * 4 / (low * 1e-6) / 1e9]
    print("read (sum of 1 GiB): %.1f GB/s (%.1f-%.1f)" % (
        result["read_gbps"], *result["read_gbps_range"]))
    del a, b

    print("| M x K | batch | fp16 us | GB/s |")
    print("|---|---|---|---|")
    for rows, cols in SHAPES + LATENCY_ONLY_SHAPES:
        weight_bytes = rows * cols * 2
        sets = max(1, min(64, math.ceil(4 * l2 / weight_bytes)))
        weights = [torch.randn(rows, cols, device="cuda", dtype=torch.float16)
                   for _ in range(sets)]
        for batch in BATCHES if (rows, cols) in SHAPES else (1,):
            x = torch.randn(batch, cols, device="cuda", dtype=torch.float16)
            outs = [torch.empty(batch, rows, device="cuda", dtype=torch.float16)
                    for _ in range(sets)]

            def round_of_calls():
                for w, out in zip(weights, outs):
                    torch.matmul(x, w.t(), out=out)

            # Check the product once against float64.
            round_of_calls()
            ref = x.double() @ weights[-1].double().t()
            err = ((outs[-1].double() - ref).norm() / ref.norm()).item()
            assert err < 1e-2, err
            median, low, high = time_graph(round_of_calls, sets)
            gbps = weight_bytes / (median * 1e-6) / 1e9
            result["gemv"].append({"rows": rows, "cols": cols, "batch": batch,
                                   "microseconds": median, "min_us": low,
                                   "max_us": high, "gbps": gbps, "sets": sets,
                                   "rel_err": err})
            print("| %dx%d | %d | %.2f | %.1f |" % (rows, cols, batch, median, gbps))
        del weights
        torch.cuda.empty_cache()
    try:
        result["llama8b_rest_of_step"] = llama8b_rest_of_step()
        print("Llama-3.1-8B decode step without its linears: %.1f us" %
              result["llama8b_rest_of_step"]["microseconds"])
    except Exception as error:  # the GEMV numbers stand without it
        print("Llama-3.1-8B rest of step: failed: %s" % error)
    with open(args.json + ".part", "w") as f:
        json.dump(result, f, indent=1)
    import os
    os.replace(args.json + ".part", args.json)


if __name__ == "__main__":
    main()
