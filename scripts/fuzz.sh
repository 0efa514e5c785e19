#!/usr/bin/env bash
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
#
# Runs one libFuzzer harness for SECONDS on its corpus, then merges what it
# found that covers new code into fuzz/corpus/NAME (as min-<sha1> files;
# the seeds stay). A finding (crash-*, leak-*, timeout-*, oom-*) is left in
# the work folder, named in the output, and the script fails: minimize it
# (-minimize_crash=1), fix it, and add it to the corpus as a regression.
#
#   scripts/fuzz.sh BUILD_DIR NAME SECONDS [libFuzzer flags...]
#
# BUILD_DIR is a QPAL_ENABLE_FUZZERS build (see DEVELOPERS.md, "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1 name=$2 seconds=$3
shift 3
fuzzer="$build/bin/qpal-$name-fuzzer"
corpus="fuzz/corpus/$name"
[ -x "$fuzzer" ] || { echo "fuzz.sh: no $fuzzer (ninja -C $build qpal-fuzzers)" >&2; exit 1; }
mkdir -p "$corpus"
work=$(mktemp -d "/tmp/qpal-fuzz-$name.XXXXXX")
flags=(-max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -max_len=16384
       -artifact_prefix="$work/" -print_final_stats=1)
[ "$name" = dialect ] && flags+=(-dict=fuzz/qpal.dict)
export ASAN_OPTIONS="allow_user_poisoning=0:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
"$fuzzer" "${flags[@]}" "$@" "$work" "$corpus" 2>&1 | tee "$work/log" | grep -E "^#[0-9]+.*(INITED|DONE)|stat::|ERROR|finding|SUMMARY|Test unit written" || true
status=${PIPESTATUS[0]}
if compgen -G "$work/crash-*" > /dev/null || compgen -G "$work/leak-*" > /dev/null ||
   compgen -G "$work/timeout-*" > /dev/null || compgen -G "$work/oom-*" > /dev/null; then
  echo "fuzz.sh: $name: findings in $work:" >&2
  ls "$work" | grep -E "^(crash|leak|timeout|oom)-" >&2
  exit 1
fi
[ "$status" -eq 0 ] || { echo "fuzz.sh: $name: the fuzzer exited with $status (log: $work/log)" >&2; exit "$status"; }
# Merge: only inputs that add coverage to the corpus are kept.
merged=$(mktemp -d "/tmp/qpal-fuzz-$name-merged.XXXXXX")
"$fuzzer" -merge=1 -max_len=16384 "$merged" "$corpus" "$work" > "$work/merge.log" 2>&1
added=0
for file in "$merged"/*; do
  [ -e "$file" ] || continue
  sha=$(sha1sum "$file" | cut -c1-40)
  if ! sha1sum "$corpus"/* 2>/dev/null | grep -q "^$sha"; then
    cp "$file" "$corpus/min-$sha"
    added=$((added + 1))
  fi
done
rm -rf "$merged"
echo "fuzz.sh: $name: $seconds s, $added inputs added to $corpus ($(ls "$corpus" | wc -l) in all)"
rm -rf "$work"
