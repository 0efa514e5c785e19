# QPAL_SANITIZE: build every qpal target with clang's sanitizers.
#
#   cmake -DQPAL_SANITIZE="address;undefined" ...   ASan + UBSan
#   cmake -DQPAL_SANITIZE=thread ...                 TSan
#
# scripts/run.sh test --sanitize configures such a build in build-sanitize/
# and runs the suites under it. What the configuration has to take care of:
#
# - libMLIR and libLLVM are Debian's, uninstrumented. LLVM's headers poison
#   allocator slabs from instrumented code that the library never unpoisons,
#   so the suites run with ASAN_OPTIONS=allow_user_poisoning=0 (test/lit.cfg.py
#   sets it; QPAL_SANITIZE reaches lit through lit.site.cfg.py).
# - JIT-compiled kernels have no UBSan prologue data, and the
#   -fsanitize=function check reads the 8 bytes before an indirect call's
#   target (a fault when the kernel starts a page): it is off. So is vptr,
#   which needs RTTI that LLVM's -fno-rtti builds do not have.
# - Shared libraries (libqpalrt.so, test plug-ins) cannot be linked with no
#   undefined symbols: the sanitizer runtime is linked into the executable.
#   -z defs and --no-undefined are dropped, as LLVM_USE_SANITIZER does.
if(NOT QPAL_SANITIZE)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "QPAL_SANITIZE needs clang, got ${CMAKE_CXX_COMPILER_ID}")
endif()

set(QPAL_SANITIZE_FLAGS -fno-omit-frame-pointer -gline-tables-only)
foreach(sanitizer IN LISTS QPAL_SANITIZE)
  string(TOLOWER "${sanitizer}" sanitizer)
  if(sanitizer STREQUAL "address")
    list(APPEND QPAL_SANITIZE_FLAGS -fsanitize=address)
  elseif(sanitizer STREQUAL "undefined")
    list(APPEND QPAL_SANITIZE_FLAGS -fsanitize=undefined
      -fno-sanitize=vptr,function -fno-sanitize-recover=undefined)
  elseif(sanitizer STREQUAL "thread")
    list(APPEND QPAL_SANITIZE_FLAGS -fsanitize=thread)
  else()
    message(FATAL_ERROR "QPAL_SANITIZE: unknown sanitizer '${sanitizer}' "
      "(expected address, undefined or thread)")
  endif()
endforeach()
if("thread" IN_LIST QPAL_SANITIZE AND "address" IN_LIST QPAL_SANITIZE)
  message(FATAL_ERROR "QPAL_SANITIZE: thread and address cannot be combined")
endif()

message(STATUS "qpal: sanitizers ${QPAL_SANITIZE}: ${QPAL_SANITIZE_FLAGS}")
add_compile_options(${QPAL_SANITIZE_FLAGS})
add_link_options(${QPAL_SANITIZE_FLAGS})
string(REPLACE "-Wl,-z,defs" "" CMAKE_SHARED_LINKER_FLAGS
  "${CMAKE_SHARED_LINKER_FLAGS}")
set(QPAL_NO_UNDEFINED_LINK_FLAG "")

# QPAL_ENABLE_FUZZERS: every target is instrumented for libFuzzer's coverage,
# so that the harnesses in fuzz/ link the regular libraries.
if(QPAL_ENABLE_FUZZERS)
  if(NOT "address" IN_LIST QPAL_SANITIZE)
    message(FATAL_ERROR "QPAL_ENABLE_FUZZERS needs QPAL_SANITIZE to include "
      "address (-DQPAL_SANITIZE=\"address;undefined\")")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
