#!/usr/bin/env bash
# The two jobs of the README, each from a fresh Debian 12 machine:
#
#   scripts/run.sh test   install, build, and run every test (check-qpal)
#   scripts/run.sh main   install, build, fetch SmolLM2, and run the most
#                         complete job qpal can do on it
#
#   scripts/run.sh test --sanitize       the whole suite in an ASan + UBSan
#                                        build (build-sanitize/), then the
#                                        runtime's tests and a package's
#                                        thread pool under TSan (build-tsan/)
#   scripts/run.sh test --sanitize=ci    CI's part of it: the unit tests, the
#                                        fuzz corpora and the dialect, pass,
#                                        conversion and runtime lit tests
#                                        under ASan + UBSan, and TSan as above
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:-}"
mode="${2:-}"
case "$job $mode" in
  "test "|"main "|"test --sanitize"|"test --sanitize=ci") ;;
  *) echo "usage: scripts/run.sh test [--sanitize|--sanitize=ci] | main" >&2; exit 2 ;;
esac

# stage NAME: a line on stderr with the seconds since the job started, so
# that a CI log says where its time went.
stage() { echo "run.sh: $1 at $SECONDS s" >&2; }
# lit lists the slowest tests after each suite.
export LIT_OPTS="${LIT_OPTS:---time-tests}"
stage "setup"
scripts/setup.sh --model
stage "setup done"
# configure DIR [CMAKE_ARGS...]: a Release build with clang 22 in DIR.
configure() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -G Ninja -S . -B "$dir" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
      -DLLVM_ENABLE_ASSERTIONS=ON \
      -DQPAL_SMOLLM2_GGUF="$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf" "$@"
  fi
}
build=${QPAL_BUILD_DIR:-build}
export QPAL_SMOLLM2_GGUF="$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf"

# summarize LOG STATUS LABEL: lit's summary as the plain closing line CI
# reads.
summarize() {
  local log=$1 status=$2 label=$3 passed failed
  passed=$(awk -F: '/^ *Passed *:/ {n += $2 + 0} END {print n + 0}' "$log")
  failed=$(awk -F: '/^ *(Failed|Unresolved|Timed Out) *:/ {n += $2 + 0} END {print n + 0}' "$log")
  if [ "$status" -ne 0 ] && ! grep -q 'Total Discovered Tests' "$log"; then
    echo "$label: the build failed before the tests ran" >&2
    exit "$status"
  fi
  echo "$label: $passed passed, $failed failed"
}

if [ -n "$mode" ]; then
  # Sanitizers (cmake/QPalSanitizers.cmake). ASan + UBSan: the whole suite,
  # or CI's part of it. TSan: the runtime's worker pool (its unit tests and
  # test/Runtime), and a compiled package's thread pool, compiled with
  # -fsanitize=thread (scripts/tsan-cc.sh) and run by TSan's qpal-run.
  lit=/usr/lib/llvm-22/bin/lit
  sbuild=${QPAL_SANITIZE_BUILD_DIR:-build-sanitize}
  tbuild=${QPAL_TSAN_BUILD_DIR:-build-tsan}
  configure "$sbuild" -DQPAL_SANITIZE="address;undefined"
  configure "$tbuild" -DQPAL_SANITIZE=thread -DQPAL_ENABLE_BENCHMARKS=OFF
  log=$(mktemp)
  status=0
  stage "ASan + UBSan"
  if [ "$mode" = "--sanitize" ]; then
    { ninja -C "$sbuild" && ninja -C "$sbuild" check-qpal; } 2>&1 | tee "$log" || status=$?
  else
    suites=(Unit Dialect Passes Conversion Runtime Tools/fuzz-corpus-replay.test
            Tools/hostile-inputs.test Tools/output-hygiene.test Tools/json-limits.test)
    { ninja -C "$sbuild" QPalUnitTests qpal-fuzz-replays qpal-opt qpal qpal-run qpalrt_shared \
        qpalrt-info qpal-bench-encode &&
      "$lit" -sv "${suites[@]/#/$sbuild/test/}"; } 2>&1 | tee "$log" || status=$?
  fi
  summarize "$log" "$status" "asan+ubsan"
  [ "$status" -eq 0 ] || exit "$status"

  stage "TSan"
  tlog=$(mktemp)
  {
    ninja -C "$tbuild" RuntimeTests RuntimeFakeCudaTests qpal-run qpalrt-info qpalrt_shared &&
      "$lit" -sv "$tbuild/test/Unit/Runtime" "$tbuild/test/Runtime" &&
      scripts/tsan-package.sh "$sbuild/bin/qpal" "$tbuild/bin/qpal-run"
  } 2>&1 | tee "$tlog" || status=$?
  stage "sanitizers done"
  summarize "$tlog" "$status" "tsan"
  exit "$status"
fi

configure "$build"

if [ "$job" = test ]; then
  log=$(mktemp)
  status=0
  # Everything builds (benchmarks too), the Python bindings install into
  # the build directory (test/Python runs their pytest suite), the test
  # oracles from PyPI install (gguf, Hugging Face's tokenizers), then the
  # lit + unit suite runs.
  stage "build"
  { ninja -C "$build" &&
      python3 -m pip install --quiet pytest numpy gguf tokenizers &&
      python3 -m pip install --quiet --no-deps --upgrade --target "$build/python" ./python &&
      stage "check-qpal" && ninja -C "$build" check-qpal; } 2>&1 | tee "$log" || status=$?
  stage "check-qpal done"
  summarize "$log" "$status" "check-qpal"
  exit "$status"
fi

ninja -C "$build" qpal qpal-opt qpal-run
qpal="$build/bin/qpal"
model="$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf"
ref="${QPAL_SHARED_DIR:-$PWD/../shared}/reference/data"
out="$PWD/models/main-job"
mkdir -p "$out"

echo "== 1. The palette: 34 quantizers, their rates and expected distortion =="
"$qpal" palette

echo "== 2. SmolLM2-135M in the qpal dialect (round-tripped through qpal-opt) =="
"$qpal" import "$model" --fuse --palette -o "$out/smollm2.mlir"
"$build/bin/qpal-opt" "$out/smollm2.mlir" -qpal-legalize-fusion -o /dev/null
grep -c "qpal.linear" "$out/smollm2.mlir" | sed 's/^/linear layers: /'

echo "== 3. Perplexity of SmolLM2 with its own weights (the evaluation protocol) =="
"$qpal" eval "$model"

echo "== 4. Mixed-scheme allocation on the reference's Llama-3.1-8B tables =="
"$qpal" allocate --sensitivity "$ref/llama31_8b_sensitivity.json" --budget-bits 3.25
"$qpal" allocate --sensitivity "$ref/llama31_8b_sensitivity.json" \
  --latency-table "$ref/llama31_8b_latency_rtx4090.json" --target-tokens-per-second 200

echo "== 5. MSQ on SmolLM2 at 3.25 bits (measured sensitivities) against uniform 3.25-bit TCQ =="
sens="$PWD/bench/results/smollm2-sensitivity.json"
"$qpal" allocate --sensitivity "$sens" --model "$model" --budget-bits 3.25 \
  --json -o "$out/smollm2-msq-3.25.json" > /dev/null
# (The plan's own perplexity comes from its compiled package, step 6.)
"$qpal" eval "$model" --quantizer tcomb_6_7_0.5_none_0.9

echo "== 6. SmolLM2 compiled ahead of time with the 3.25-bit MSQ plan (LM head 4-bit SQ) into one package, run by qpal-run =="
run="$build/bin/qpal-run"
# The LM head is the tied embedding (28 M weights): quantized, the table
# itself stays in the GGUF's q8_0 for the lookup.
"$qpal" compile "$model" --plan "$out/smollm2-msq-3.25.json" --lm-head ldlq_1_4_none_1.0 \
  -o "$out/smollm2-msq-3.25.qpal"
"$run" "$out/smollm2-msq-3.25.qpal" --info | head -7
"$run" "$out/smollm2-msq-3.25.qpal" --perplexity
"$run" "$out/smollm2-msq-3.25.qpal" --chat --prompt "What is the capital of France?" -n 32
echo "== 7. Hessian-aware rounding: calibrated on State of the Union 2000-2009, 4-bit SQ rounded with LDLQ (LM head included) =="
"$qpal" calibrate "$model" -o "$out/smollm2.qpalh"
"$qpal" compile "$model" --quantizer ldlq_1_4_hess_1.0 --lm-head ldlq_1_4_hess_1.0 \
  --hessians "$out/smollm2.qpalh" -o "$out/smollm2-sq4-hess.qpal"
"$run" "$out/smollm2-sq4-hess.qpal" --perplexity
echo "== 8. Speed on this machine, side by side with llama.cpp on the shipped Q4_1 file (2 threads each) =="
python3 -c "import llama_cpp" 2>/dev/null ||
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    python3 -m pip install --quiet llama-cpp-python==0.3.36  # builds llama.cpp once (minutes)
python3 bench/models/smollm2_package.py --qpal-run "$run" --gguf "$model" --threads 2 \
  "qpal MSQ 3.25 + SQ4 head=$out/smollm2-msq-3.25.qpal" "qpal SQ4-hess + SQ4-hess head=$out/smollm2-sq4-hess.qpal"
echo "== 9. This machine's latency table (qpal profile), and SmolLM2 compiled for a decode speed instead of a size =="
"$qpal" compile "$model" --quantizer ldlq_1_4_none_1.0 --lm-head ldlq_1_4_none_1.0 --quiet \
  -o "$out/smollm2-sq4.qpal"
"$qpal" profile "$model" --threads 2 --package "$out/smollm2-sq4.qpal" -o "$out/smollm2-latency-cpu.json"
# The target: the uniform 4-bit package's measured speed, which the table
# can always reach; MSQ spends the same time where the loss is most
# sensitive.
target=$(python3 -c 'import json, sys; print(1 / json.load(open(sys.argv[1]))["measured"]["step_seconds"])' \
  "$out/smollm2-latency-cpu.json")
"$qpal" compile "$model" --latency-table "$out/smollm2-latency-cpu.json" \
  --target-tokens-per-second "$target" --sensitivity "$sens" --lm-head ldlq_1_4_none_1.0 \
  -o "$out/smollm2-fast.qpal"
"$qpal" allocate --model "$model" --sensitivity "$sens" --latency-table "$out/smollm2-latency-cpu.json" \
  --target-tokens-per-second "$target" --plot "$out/smollm2-fast-plan.svg" > /dev/null
echo "(the plan's picture: $out/smollm2-fast-plan.svg)"
"$run" "$out/smollm2-fast.qpal" --bench --threads 2
"$run" "$out/smollm2-sq4.qpal" --perplexity
"$run" "$out/smollm2-fast.qpal" --perplexity
echo "== 10. The 3.25-bit MSQ plan compiled for an NVIDIA GPU (sm_90): its PTX through ptxas, run where a GPU is =="
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [ -x "$ptxas" ]; then
  # The layers are in the cache from step 6: only code generation is new.
  "$qpal" compile "$model" --plan "$out/smollm2-msq-3.25.json" --lm-head ldlq_1_4_none_1.0 --target nvptx --chip sm_90 \
    --emit-ptx "$out/ptx-sm90" --quiet -o "$out/smollm2-msq-3.25-sm90.qpal"
  for ptx in "$out"/ptx-sm90/*.ptx; do
    "$ptxas" -arch=sm_90 "$ptx" -o /dev/null && echo "ptxas -arch=sm_90: $(basename "$ptx") accepted"
  done
  "$run" "$out/smollm2-msq-3.25-sm90.qpal" --info 2>&1 | head -4
  if result=$("$run" "$out/smollm2-msq-3.25-sm90.qpal" --perplexity 2>&1); then
    echo "$result"
  else
    echo "(not run here: $result)"
  fi
else
  echo "(no CUDA toolkit here: ptxas and libdevice come with it; skipped)"
fi
