#!/usr/bin/env bash
# The two jobs of the README, each from a fresh Debian 12 machine:
#
#   scripts/run.sh test   install, build, and run every test (check-qpal)
#   scripts/run.sh main   install, build, fetch SmolLM2, and run the most
#                         complete job qpal can do on it
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:-}"
case "$job" in
  test|main) ;;
  *) echo "usage: scripts/run.sh test|main" >&2; exit 2 ;;
esac

scripts/setup.sh --model
build=${QPAL_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DLLVM_ENABLE_ASSERTIONS=ON \
    -DQPAL_SMOLLM2_GGUF="$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf"
fi
export QPAL_SMOLLM2_GGUF="$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf"

if [ "$job" = test ]; then
  log=$(mktemp)
  status=0
  # Everything builds (benchmarks too), then the lit + unit suite runs.
  { ninja -C "$build" && ninja -C "$build" check-qpal; } 2>&1 | tee "$log" || status=$?
  # lit's summary, restated as the plain closing line CI reads.
  passed=$(awk -F: '/^ *Passed *:/ {n = $2 + 0} END {print n + 0}' "$log")
  failed=$(awk -F: '/^ *(Failed|Unresolved|Timed Out) *:/ {n += $2 + 0} END {print n + 0}' "$log")
  if [ "$status" -ne 0 ] && ! grep -q 'Total Discovered Tests' "$log"; then
    echo "check-qpal: the build failed before the tests ran" >&2
    exit "$status"
  fi
  echo "check-qpal: $passed passed, $failed failed"
  exit "$status"
fi

ninja -C "$build" qpal qpal-opt
qpal="$build/bin/qpal"
echo "== The palette =="
"$qpal" palette
