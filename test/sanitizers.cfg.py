# -*- Python -*-
# The environment of a sanitizer build's tests (QPAL_SANITIZE), loaded by
# the lit configurations of the FileCheck suite and of the unit tests.
# libMLIR/libLLVM are uninstrumented, and LLVM's headers poison allocator
# slabs that the library never unpoisons. Errors stop the test with a
# report; leaks are reported at exit.

import os

if config.qpal_sanitize:
    config.available_features.add("sanitizer")
    config.environment["ASAN_OPTIONS"] = (
        "allow_user_poisoning=0:detect_leaks=1:abort_on_error=0:"
        "exitcode=86:strict_string_checks=1:detect_stack_use_after_return=0")
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    config.environment["TSAN_OPTIONS"] = "halt_on_error=1:second_deadlock_stack=1"
    symbolizer = os.path.join(config.llvm_tools_dir, "llvm-symbolizer")
    if os.path.exists(symbolizer):
        config.environment["ASAN_SYMBOLIZER_PATH"] = symbolizer
        config.environment["LLVM_SYMBOLIZER_PATH"] = symbolizer
