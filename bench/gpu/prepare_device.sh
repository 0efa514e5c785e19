#!/bin/bash
# Prepares DIR (default .device, ignored by git) for bench/gpu/run_device.sh
# on a GPU machine without LLVM: the MLIR-free programs of BUILD and every
# kernel of bench/gpu/make_kernels.py, compiled here (NVPTX + ptxas).
set -euo pipefail
build=${BUILD:-build}
dir=${1:-.device}
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/runtime" "$dir/kernels"
cp "$build/bin/qpal-gpu-kernels" "$build/bin/qpalrt-info" "$dir/bin/"
cp "$build/test/Unit/Runtime/RuntimeTests" \
   "$build/test/Unit/Runtime/libqpalrt_test_kernels.so" \
   "$build/test/Unit/Runtime/qpalrt_test_kernels.ptx" "$dir/runtime/"
python3 "$(dirname "$0")/make_kernels.py" --qpal "$build/bin/qpal" --out "$dir/kernels" "${@:2}"
du -sh "$dir"
