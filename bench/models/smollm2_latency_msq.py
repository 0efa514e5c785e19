#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Latency-constrained MSQ on the CPU, closed loop, on SmolLM2-135M.

One run on this machine:

 1. compiles the baseline package (uniform SQ4, SQ4 LM head) and runs
    `qpal profile` on it: the latency table of qpal's own kernels, its
    constant from the baseline's measured step;
 2. measures llama.cpp's batch-1 decode on the shipped Q4_1 file
    (llama-cpp-python, same threads, same prompt and steps);
 3. for targets X from llama.cpp's speed up to the fastest plan the table
    allows, compiles `qpal compile --latency-table --target-tokens-per-second
    X` (MSQ on the measured table, fusion where the table says it pays);
 4. compiles the uniform quantizers whose predicted speed falls in that
    range (q/k/v and gate/up fused, as `qpal compile --quantizer` does);
 5. runs every package: `qpal-run --bench` (the measured decode tokens/s,
    next to the prediction the package's manifest records) and `qpal-run
    --perplexity` (the project's protocol).

Prints Markdown tables: predicted against measured speed, perplexity, and
whether each MSQ plan dominates the uniform quantizers (lower perplexity
than every uniform package that runs at least as fast); and the measured
fused and unfused costs of q/k/v and gate/up, with the fusion each plan
chose. --json FILE keeps the numbers.

Usage: smollm2_latency_msq.py --build build --gguf Q4_1.gguf
           --sensitivity smollm2-sensitivity.json --workdir DIR
           [--threads 2] [--targets 5]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smollm2_package import bench_llamacpp  # noqa: E402

# The uniform candidates: every packed member of the reference palette with
# a CPU kernel fast enough to matter (the trellis codes are predicted below
# llama.cpp's speed on this machine and are skipped by the speed filter).
UNIFORM = ([f"ldlq_1_{b}_none_1.0" for b in range(2, 9)] +
           [f"ldlq_2_{b}_none_1.0" for b in range(3, 13)] +
           [f"tcq_{kv}_none_0.9" for kv in (4, 6, 8)])
FUSED = {"qkv": ["q", "k", "v"], "ug": ["u", "g"]}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)


def run(cmd, **kwargs):
    log(" ".join(cmd))
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def run_json(cmd):
    return json.loads(run(cmd, capture_output=True).stdout)


def uniform_prediction(table, blocks, quantizer):
    """Seconds per token of a uniform plan with q/k/v and gate/up fused."""
    name, kind = (quantizer[:-5], "SIMT") if quantizer.endswith(":simt") \
        else (quantizer, "TC")
    latency = table["latency_s"]
    try:
        per_block = sum(latency[g][name][kind] for g in ("qkv", "o", "ug", "d"))
    except KeyError:
        return None
    return table["constant_s"] + blocks * per_block


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--gguf", required=True)
    p.add_argument("--sensitivity", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--targets", type=int, default=5)
    p.add_argument("--lm-head", default="ldlq_1_4_none_1.0")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--reuse", action="store_true",
                   help="keep packages and the table already in --workdir")
    p.add_argument("--json")
    a = p.parse_args()

    qpal = os.path.join(a.build, "bin", "qpal")
    qpal_run = os.path.join(a.build, "bin", "qpal-run")
    os.makedirs(a.workdir, exist_ok=True)
    work = lambda name: os.path.join(a.workdir, name)  # noqa: E731

    def compile_package(path, *options):
        if a.reuse and os.path.exists(path):
            return
        run([qpal, "compile", a.gguf, "--lm-head", a.lm_head, "--quiet",
             "-o", path] + list(options))

    # 1. The baseline and the table.
    base = work("base-sq4.qpal")
    compile_package(base, "--quantizer", "ldlq_1_4_none_1.0")
    costs = work("costs.json")
    if not (a.reuse and os.path.exists(costs)):
        run([qpal, "profile", a.gguf, "--threads", str(a.threads),
             "--package", base, "--quiet", "-o", costs])
    table = json.load(open(costs))
    blocks = read_allocation(base)["model"]["num_hidden_layers"]

    # 2. llama.cpp.
    llama = bench_llamacpp(a.gguf, a.threads, 128, 64, a.repeats)
    llama_speed = llama["decode_tokens_per_second"]
    log(f"llama.cpp decode: {llama_speed:.1f} tokens/s")

    # 3. The fastest plan the table allows, and the targets.
    probe = subprocess.run(
        [qpal, "allocate", "--model", a.gguf, "--sensitivity", a.sensitivity,
         "--latency-table", costs, "--target-tokens-per-second", "1e6"],
        capture_output=True, text=True)
    found = re.search(r"palette's maximum of ([0-9.]+) tokens/s", probe.stderr)
    if not found:
        sys.exit("cannot find the fastest plan: " + probe.stderr)
    fastest = float(found.group(1))
    low, high = llama_speed, 0.98 * fastest
    targets = [low + (high - low) * i / (a.targets - 1)
               for i in range(a.targets)]
    log("targets: " + ", ".join(f"{x:.1f}" for x in targets) +
        f" (fastest plan: {fastest:.1f})")

    packages = []
    for x in targets:
        path = work(f"msq-{x:.0f}.qpal")
        compile_package(path, "--latency-table", costs,
                        "--target-tokens-per-second", f"{x:.3f}",
                        "--sensitivity", a.sensitivity)
        packages.append({"name": f"MSQ, target {x:.0f} tok/s", "kind": "msq",
                         "target": x, "path": path})

    # 4. The uniform quantizers in range.
    for quantizer in UNIFORM:
        seconds = uniform_prediction(table, blocks, quantizer)
        if seconds is None or 1 / seconds < 0.9 * low:
            continue
        path = work(f"uniform-{quantizer}.qpal")
        compile_package(path, "--quantizer", quantizer, "--latency-table",
                        costs)
        packages.append({"name": f"uniform {quantizer}", "kind": "uniform",
                         "path": path})

    # 5. Run them. The baseline runs too: its measured speed against the
    # table's says how far this machine drifted since the profile.
    packages.append({"name": "baseline (uniform ldlq_1_4_none_1.0, profiled)",
                     "kind": "baseline", "path": base})
    for package in packages:
        info = run_json([qpal_run, package["path"], "--info", "--json"])
        package["bits"] = info["bits_per_weight"]
        package["allocation"] = read_allocation(package["path"])
        package["perplexity"] = run_json(
            [qpal_run, package["path"], "--perplexity", "--json",
             "--threads", str(a.threads)])["perplexity"]
    # The compiles took long: profile again now, and price every plan with
    # this table too (the model: the constant plus the plan's entries), so
    # that the check measures the model, not the drift of a shared machine
    # over the compiles. Then the benches, interleaved: one repeat of every
    # package per round, the median of the rounds.
    fresh = work("costs-check.json")
    run([qpal, "profile", a.gguf, "--threads", str(a.threads),
         "--package", base, "--quiet", "-o", fresh])
    fresh_table = json.load(open(fresh))
    samples = {p["path"]: [] for p in packages}
    for _ in range(a.repeats):
        for package in packages:
            bench = run_json([qpal_run, package["path"], "--bench", "--json",
                              "--threads", str(a.threads), "--repeats", "1"])
            samples[package["path"]].append(
                bench["decode_tokens_per_second"])
            package["predicted"] = bench["predicted_decode_tokens_per_second"]
    for package in packages:
        package["measured"] = statistics.median(samples[package["path"]])
        package["measured_samples"] = samples[package["path"]]
        package["predicted_fresh"] = 1 / price(fresh_table,
                                               package["allocation"])
        if package["kind"] == "baseline":
            package["predicted"] = 1 / price(table, package["allocation"])
        log(f"{package['name']}: predicted {package['predicted']:.1f} "
            f"(fresh table {package['predicted_fresh']:.1f}), measured "
            f"{package['measured']:.1f} tokens/s, perplexity "
            f"{package['perplexity']:.3f}")

    report(a, table, llama, packages)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "llama_cpp": llama,
                       "fastest_plan": fastest, "packages": packages,
                       "constant_s": table["constant_s"]}, f, indent=1)


def price(table, allocation):
    """Seconds per decode step of a package's allocation under a latency
    table: the constant plus each block's groups (written here from the
    schema, independently of qpal's predictSecondsPerToken)."""
    members = {"q": ["self_attn.q_proj"], "k": ["self_attn.k_proj"],
               "v": ["self_attn.v_proj"], "o": ["self_attn.o_proj"],
               "g": ["mlp.gate_proj"], "u": ["mlp.up_proj"],
               "d": ["mlp.down_proj"]}
    group_members = dict(members)
    group_members.update({
        "qk": members["q"] + members["k"], "kv": members["k"] + members["v"],
        "qv": members["q"] + members["v"],
        "qkv": members["q"] + members["k"] + members["v"],
        "ug": members["u"] + members["g"]})
    plan = allocation["plan"]
    blocks = allocation["model"]["num_hidden_layers"]
    seconds = table["constant_s"]
    for b in range(blocks):
        groups = list(allocation.get("fusion", {}).get(str(b), []))
        covered = {m for g in groups for m in group_members[g]}
        groups += [g for g in "qkvogud" if group_members[g][0] not in covered]
        for g in groups:
            name = plan[f"{b}_{group_members[g][0]}"]
            kind = "SIMT" if name.endswith(":simt") else "TC"
            seconds += table["latency_s"][g][name.split(":")[0]][kind]
    return seconds


def read_allocation(path):
    """The `allocation` of a package's manifest (docs/Package.md layout)."""
    with open(path, "rb") as f:
        header = f.read(64)  # runtime/include/qpalpkg.h: qpalpkgHeader
        table = int.from_bytes(header[24:32], "little")
        count = int.from_bytes(header[32:36], "little")
        for index in range(count):
            f.seek(table + 64 * index)
            entry = f.read(64)
            name = entry[:32].rstrip(b"\0").decode()
            if name == "manifest":
                offset = int.from_bytes(entry[32:40], "little")
                size = int.from_bytes(entry[40:48], "little")
                f.seek(offset)
                return json.loads(f.read(size))["allocation"]
    raise ValueError(f"{path}: no manifest")


def report(a, table, llama, packages):
    rows = sorted(packages, key=lambda p: -p["measured"])
    print(f"llama.cpp (shipped Q4_1, {a.threads} threads): "
          f"{llama['decode_tokens_per_second']:.1f} decode tokens/s\n")
    print("| package | bits/weight | predicted at compile | predicted, fresh "
          "table | measured tok/s | measured / fresh | perplexity | fused "
          "groups | dominates the uniform ones |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    uniform = [p for p in packages if p["kind"] == "uniform"]
    for p in rows:
        fused = {}
        for groups in p["allocation"].get("fusion", {}).values():
            for g in groups:
                fused[g] = fused.get(g, 0) + 1
        fused_text = ", ".join(f"{n} {g}" for g, n in sorted(fused.items())) \
            or "none"
        verdict = "-"
        if p["kind"] == "msq":
            rivals = [u for u in uniform if u["measured"] >= p["measured"]]
            beaten = [u for u in rivals if u["perplexity"] <= p["perplexity"]]
            verdict = ("yes" if not beaten else
                       "no: " + ", ".join(u["name"] for u in beaten))
            if not rivals:
                verdict = "yes (no uniform as fast)"
        print(f"| {p['name']} | {p['bits']:.2f} | {p['predicted']:.1f} | "
              f"{p['predicted_fresh']:.1f} | {p['measured']:.1f} | "
              f"{p['measured'] / p['predicted_fresh']:.3f} | "
              f"{p['perplexity']:.3f} | {fused_text} | {verdict} |")

    print("\nFused against unfused (microseconds per block, measured by "
          "`qpal profile`):\n")
    print("| quantizer | kernel | q + k + v | qkv | u + g | ug |")
    print("|---|---|---:|---:|---:|---:|")
    latency = table["latency_s"]
    for name in sorted(latency["qkv"]):
        for kind in sorted(latency["qkv"][name]):
            try:
                parts = {g: latency[g][name][kind] * 1e6
                         for g in ("q", "k", "v", "qkv", "u", "g", "ug")}
            except KeyError:
                continue
            print(f"| {name} | {kind} | {parts['q'] + parts['k'] + parts['v']:.1f}"
                  f" | {parts['qkv']:.1f} | {parts['u'] + parts['g']:.1f} | "
                  f"{parts['ug']:.1f} |")


if __name__ == "__main__":
    main()
