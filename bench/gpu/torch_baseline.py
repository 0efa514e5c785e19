#!/usr/bin/env python3
"""The two baselines of bench/results/gpu-kernels-*.md, measured on the GPU.

- DRAM bandwidth: a device-to-device copy of 1 GiB (bytes read + written),
  and a read-only pass (a sum over 1 GiB), the pattern of a GEMV.
- fp16 GEMV/GEMM through PyTorch (cuBLAS): y = x @ W^T, W fp16 [M, K], x fp16
  [batch, K], for each benchmark shape and batch, rotating through enough
  copies of W that they do not stay in L2, replayed as a CUDA graph so that
  launch overhead stays out (as qpal-gpu-kernels times its kernels).

Prints a table and writes the numbers as JSON (--json).
"""
import argparse
import json
import math
import statistics

import torch

SHAPES = [(4096, 4096), (14336, 4096), (4096, 14336)]


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
    for rows, cols in SHAPES:
        weight_bytes = rows * cols * 2
        sets = max(1, min(64, math.ceil(4 * l2 / weight_bytes)))
        weights = [torch.randn(rows, cols, device="cuda", dtype=torch.float16)
                   for _ in range(sets)]
        for batch in (1, 8, 16, 32):
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
    with open(args.json + ".part", "w") as f:
        json.dump(result, f, indent=1)
    import os
    os.replace(args.json + ".part", args.json)


if __name__ == "__main__":
    main()
