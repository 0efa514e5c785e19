#!/bin/bash
# Runs on the GPU machine (bench/gpu/NOTES.md): the nvptx packages of
# bench/gpu/prepare_model.sh through qpal-run (perplexity, greedy tokens,
# bench). The results go to one file, $OUT/model-run.tgz (the device tool
# returns 8 files at most), for bench/gpu/compare_model.py after
# `tar xzf model-run.tgz -C RUN`; the perplexities and speeds are printed
# too.
set -uo pipefail
dir=${1:-.device-model}
final=${OUT:-/tmp/qpal-model-out}
out=$(mktemp -d)
mkdir -p "$final"
run=$dir/bin/qpal-run
nvidia-smi --query-gpu=name,driver_version --format=csv > "$out/gpu.txt" 2>&1
for package in "$dir"/packages/*.qpal; do
  name=$(basename "$package" .qpal)
  echo "== $name"
  "$run" "$package" --info > "$out/$name.info.txt" 2>&1
  "$run" "$package" --perplexity --text "$dir/text.txt" --ctx 16 --json \
    > "$out/$name.json" 2> "$out/$name.err"
  "$run" "$package" --prompt ab -n 16 --tokens > "$out/$name.tokens" \
    2>> "$out/$name.err"
  "$run" "$package" --bench --prompt-tokens 32 --decode-tokens 64 --json \
    > "$out/$name.bench.json" 2>> "$out/$name.err"
  cat "$out/$name.err"
  grep -h '"perplexity"\|tokens_per_second"' "$out/$name.json" "$out/$name.bench.json"
done
tar czf "$final/model-run.tgz" -C "$out" .
ls -la "$out" "$final/model-run.tgz"
