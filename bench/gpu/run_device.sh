#!/bin/bash
# Runs on a GPU machine, from the repository root, over what
# bench/gpu/prepare_device.sh put in DIR (default .device): the runtime's
# GPU tests, the baselines (copy and read bandwidth, fp16 cuBLAS, the rest
# of a Llama-3.1-8B decode step), qpal-gpu-kernels over every manifest
# (timings first, then the checks) and Nsight Compute over manifest-ncu.txt.
# Logs and JSON go to $OUT, 8 files at most. Needs CUDA's driver,
# nvidia-smi and python3 with torch; no MLIR or LLVM.
set -u -o pipefail
dir=${1:-.device}
out=${OUT:-/tmp/qpal-gpu-out}
work=$(mktemp -d)
mkdir -p "$out"
start=$SECONDS
stamp() { echo "== $1 (at $((SECONDS - start)) s)"; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv | tee "$out/smi.txt"
"$dir/bin/qpalrt-info" | tee "$work/qpalrt-info.log"
stamp "runtime tests"
(cd "$dir/runtime" && timeout 120 ./RuntimeTests) > "$out/runtime-tests.log" 2>&1
echo "runtime tests: exit $?; $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/runtime-tests.log" | tr '\n' ' ')"
stamp "torch baselines"
PYTHONUNBUFFERED=1 timeout 180 python3 bench/gpu/torch_baseline.py --json "$out/torch.json" \
  > "$work/torch.log" 2>&1
echo "torch baseline: exit $?"; grep -E "copy|read|Llama|^\| (4096x4096|4096x14336) \| (1|8) " "$work/torch.log"
run_manifests() {
  local limit=$1; shift
  for manifest in "$@"; do
    [ -f "$manifest" ] || continue
    name=$(basename "$manifest" .txt)
    name=${name#manifest-}
    timeout "$limit" "$dir/bin/qpal-gpu-kernels" "$manifest" --require-gpu \
      --json "$work/$name.json" > "$work/$name.log" 2>&1
    echo "$name: exit $?; $(tail -1 "$work/$name.log") (at $((SECONDS - start)) s)"
    grep -E "^FAIL|error" "$work/$name.log" | head -5
  done
}
# $OUT is brought up to date after each stage, so that a run stopped at its
# time limit still returns what it measured.
collect() {
  cat "$work"/check-*.json* "$work"/rotate.json* "$work"/variants.json* > "$out/checks.jsonl" 2>/dev/null
  cat "$work"/bench-*.json* "$work"/variants.json* > "$out/benches.jsonl" 2>/dev/null
  cat "$work/qpalrt-info.log" "$work/torch.log" "$work"/bench-*.log "$work"/variants.log \
    "$work"/check-*.log "$work"/rotate.log "$work"/ncu-run.log > "$out/kernels.log" 2>/dev/null
  return 0
}
stamp "timings"
run_manifests 240 "$dir"/kernels/manifest-bench-*.txt "$dir"/kernels/manifest-variants.txt
collect
if [ -f "$dir/kernels/manifest-ncu.txt" ]; then
  stamp "Nsight Compute"
  ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
  if [ -n "$ncu" ]; then
    timeout 240 "$ncu" --clock-control none --kernel-name regex:^qpal_ \
      --section SpeedOfLight --section MemoryWorkloadAnalysis \
      --section WarpStateStats --section Occupancy --section LaunchStats \
      --section ComputeWorkloadAnalysis --section InstructionStats \
      -o "$work/profile" -f "$dir/bin/qpal-gpu-kernels" "$dir/kernels/manifest-ncu.txt" \
      --require-gpu > "$work/ncu-run.log" 2>&1
    echo "ncu: exit $?"; tail -3 "$work/ncu-run.log"
    "$ncu" -i "$work/profile.ncu-rep" --page details > "$out/ncu.txt" 2>&1
    "$ncu" -i "$work/profile.ncu-rep" --page raw --csv > "$out/ncu-raw.csv" 2>&1
    grep -E "qpal_|DRAM Throughput|L1/TEX Cache Throughput|Compute \(SM\) Throughput|Duration" "$out/ncu.txt" | head -48
  else
    echo "ncu: not found"
  fi
fi
stamp "checks"
run_manifests 240 "$dir"/kernels/manifest-check-*.txt "$dir"/kernels/manifest-rotate.txt
collect
stamp "done"
grep -h -A12 "^| family" "$work"/check-*.log "$work"/rotate.log "$work"/variants.log 2>/dev/null |
  grep "|" | grep -v "family\|---"
