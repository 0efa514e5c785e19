#!/bin/bash
# Prepares DIR (default .device-model, ignored by git) for
# bench/gpu/run_model.sh: --target nvptx packages of the tiny Llama for CHIP
# (default sm_90), qpal-run (no MLIR, no LLVM), and what their CPU twins give
# here (perplexity, greedy tokens), which the GPU must reproduce.
#
# SmolLM2 is not carried: its 4-bit nvptx package is 102 MB (the q8_0
# embedding table 30 MB of it; 94 MB with xz), above the device tool's
# 64 MiB.
set -euo pipefail
build=${BUILD:-build}
dir=${1:-.device-model}
chip=${CHIP:-sm_90}
model=test/Model/Inputs/tiny-llama-vocab.gguf
text=test/Tools/Inputs/tiny-text.txt
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/packages" "$dir/expected"
cp "$build/bin/qpal-run" "$dir/bin/"
cp "$text" "$dir/text.txt"
cpu=$(mktemp -d)
trap 'rm -rf "$cpu"' EXIT
for quantizer in ldlq_1_4_none_1.0:simt tcq_6_none_0.9; do
  name=$(echo "$quantizer" | tr ':.' '__')
  "$build/bin/qpal" compile "$model" --quantizer "$quantizer" --target nvptx \
    --chip "$chip" -o "$dir/packages/$name.qpal" --quiet
  "$build/bin/qpal" compile "$model" --quantizer "$quantizer" \
    -o "$cpu/$name.qpal" --quiet
  "$build/bin/qpal-run" "$cpu/$name.qpal" --perplexity --text "$text" \
    --ctx 16 --json > "$dir/expected/$name.json"
  "$build/bin/qpal-run" "$cpu/$name.qpal" --prompt ab -n 16 --tokens \
    > "$dir/expected/$name.tokens"
done
du -sh "$dir"
