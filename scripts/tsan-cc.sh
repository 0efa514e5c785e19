#!/bin/sh
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
#
# The C compiler driver of a package whose host code is compiled with
# ThreadSanitizer: `QPAL_CC=scripts/tsan-cc.sh qpal compile ...`. The
# package's thread pool (ParallelSupport.cpp's C source) is instrumented;
# the kernels, emitted by LLVM, are not. Such a package runs only in a
# ThreadSanitizer build of qpal-run (QPAL_SANITIZE=thread), which has the
# TSan runtime the shared object's calls resolve to.
exec "${QPAL_TSAN_CC:-clang-22}" -fsanitize=thread -g "$@"
