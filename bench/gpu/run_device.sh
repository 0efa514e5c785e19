#!/bin/bash
# Runs on a GPU machine, from the repository root, over what
# bench/gpu/prepare_device.sh put in DIR (default .device): the runtime's
# GPU tests, the baselines (copy bandwidth, fp16 cuBLAS GEMV) and
# qpal-gpu-kernels over every manifest. Logs and JSON go to $OUT. Needs
# CUDA's driver, nvidia-smi and python3 with torch; no MLIR or LLVM.
set -u -o pipefail
dir=${1:-.device}
out=${OUT:-/tmp/qpal-gpu-out}
work=$(mktemp -d)
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv | tee "$out/smi.txt"
"$dir/bin/qpalrt-info" | tee "$out/qpalrt-info.txt"
(cd "$dir/runtime" && timeout 120 ./RuntimeTests) > "$out/runtime-tests.log" 2>&1
echo "runtime tests: exit $?; $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/runtime-tests.log" | tr '\n' ' ')"
PYTHONUNBUFFERED=1 timeout 180 python3 bench/gpu/torch_baseline.py --json "$out/torch.json" \
  > "$out/torch.log" 2>&1
echo "torch baseline: exit $?"; cat "$out/torch.log" | tail -12
for manifest in "$dir"/kernels/manifest-check-*.txt "$dir"/kernels/manifest-rotate.txt \
                "$dir"/kernels/manifest-bench-*.txt "$dir"/kernels/manifest-variants.txt; do
  [ -f "$manifest" ] || continue
  name=$(basename "$manifest" .txt)
  name=${name#manifest-}
  timeout 300 "$dir/bin/qpal-gpu-kernels" "$manifest" --require-gpu \
    --json "$work/$name.json" > "$work/$name.log" 2>&1
  echo "$name: exit $?; $(tail -1 "$work/$name.log")"
  grep -E "^FAIL|error" "$work/$name.log" | head -5
done
# One file per kind in $OUT: 8 files in all.
cat "$work"/check-*.json* "$work"/rotate.json* "$work"/variants.json* > "$out/checks.jsonl" 2>/dev/null
cat "$work"/bench-*.json* "$work"/variants.json* > "$out/benches.jsonl" 2>/dev/null
cat "$work"/check-*.log "$work"/rotate.log "$work"/bench-*.log "$work"/variants.log > "$out/kernels.log" 2>/dev/null
grep -A12 "^| family" "$work"/check-*.log "$work"/rotate.log "$work"/variants.log | grep "|" | grep -v "family\|---"
