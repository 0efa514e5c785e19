#!/usr/bin/env bash
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
#
# ThreadSanitizer on a compiled package's thread pool: the tiny Llama of
# test/Model/Inputs is compiled with its host code's pool instrumented
# (scripts/tsan-cc.sh as QPAL_CC) and run by a TSan build's qpal-run on
# several thread counts: perplexity (prefill), generation (decode steps)
# and a benchmark (many steps in a row, the pool's spinning path). A data
# race stops it with TSan's report (halt_on_error).
#
#   scripts/tsan-package.sh QPAL QPAL_RUN_TSAN
set -euo pipefail
cd "$(dirname "$0")/.."
qpal=$1
run=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66"
model=test/Model/Inputs/tiny-llama-vocab.gguf
text=test/Tools/Inputs/tiny-text.txt
for quantizer in tcq_6_none_0.9 ldlq_1_4_none_1.0:simt; do
  QPAL_CC="$PWD/scripts/tsan-cc.sh" "$qpal" compile "$model" \
    --quantizer "$quantizer" -o "$work/tiny.qpal" > /dev/null
  for threads in 2 3 8; do
    "$run" "$work/tiny.qpal" --threads "$threads" --perplexity --text "$text" \
      --ctx 16 > /dev/null
    "$run" "$work/tiny.qpal" --threads "$threads" --prompt "The" -n 12 > /dev/null
    "$run" "$work/tiny.qpal" --threads "$threads" --bench --prompt-tokens 8 \
      --decode-tokens 32 --repeats 1 > /dev/null
  done
  echo "tsan: the package thread pool of $quantizer ran on 2, 3 and 8 threads without a report"
done
