//===- PackageFuzzer.cpp - libFuzzer harness for the package loader -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Opens arbitrary bytes as a compiled-model package (qpalrtOpenPackage, from
// a memory file), either as they are or, with a well-formed header, table
// and checksums built around them, so that the fuzzer gets past the
// checksums to the manifest, the JSON reader and the tokenizer (the input
// format is in PackageFuzzInput.h). A package that opens is queried, and,
// when its entry points are the fake step's, runs a few tokens. Any error
// is fine; a crash or sanitizer report is a finding.
//
// "code.cpu" is dlopened, so the harness never lets the loader load bytes of
// the input: sealed inputs get a trusted shared object, built from
// test/Unit/Runtime/Inputs/FakeStep.c, and an input that could load any
// other ELF object is not opened. As a second line, dlopen is wrapped
// (-Wl,--wrap=dlopen): loading an ELF file that is not the trusted object
// aborts. The trusted object is QPAL_FUZZ_PACKAGE_CODE, or else
// qpal-package-fuzzer-code.so beside the binary.
//
// CMake (-DQPAL_ENABLE_FUZZERS=ON) builds both (ninja qpal-package-fuzzer).
// With a clang that has no libFuzzer runtime, build them with clang 14 from
// the repository root (clang 14 rejects some of CpuBackend.cpp's CPU feature
// names, which only the device info reports: the -D turns them off):
//
//   clang-14 -shared -fPIC -O1 -Iruntime/include \
//     test/Unit/Runtime/Inputs/FakeStep.c -o out/qpal-package-fuzzer-code.so
//   clang++-14 -std=c++17 -O1 -g -fno-omit-frame-pointer \
//     -fsanitize=fuzzer,address '-D__builtin_cpu_supports(name)=0' \
//     -Iruntime/include -Iruntime/lib -Iruntime/tokenizer/include \
//     fuzz/PackageFuzzer.cpp runtime/lib/*.cpp runtime/tokenizer/lib/*.cpp \
//     -Wl,--wrap=dlopen -ldl -lpthread -o out/qpal-package-fuzzer
//   out/qpal-package-fuzzer -max_total_time=600 -rss_limit_mb=2048 \
//     NEW_UNITS_DIR fuzz/corpus/package
//
// The seeds' raw packages hold a FakeStep.c object built by clang 14 as
// above; another build's object differs, so they are skipped unless
// QPAL_FUZZ_PACKAGE_CODE names that object.
//
//===----------------------------------------------------------------------===//

#include "PackageFuzzInput.h"

#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <string>
#include <unistd.h>

using qpalrt::fuzz::kElfMagic;

namespace {

/// The bytes of the trusted "code.cpu".
std::string trustedCode;

/// The bytes of the file at `path`, or "" if it cannot be read.
std::string readFile(const char *path) {
  std::string bytes;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bytes;
  char buffer[1 << 16];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;)
    bytes.append(buffer, size_t(n));
  close(fd);
  return bytes;
}

} // namespace

extern "C" void *__real_dlopen(const char *path, int flags);

/// Every dlopen of the process (the runtime's CPU backend's included): an
/// ELF file other than the trusted object means the loader loaded bytes that
/// loadsOnlyTrustedCode() did not let through, a finding.
extern "C" void *__wrap_dlopen(const char *path, int flags) {
  if (path && !(flags & RTLD_NOLOAD)) {
    std::string bytes = readFile(path);
    if (bytes.compare(0, kElfMagic.size(), kElfMagic) == 0 &&
        bytes != trustedCode) {
      std::fprintf(stderr,
                   "qpal-package-fuzzer: dlopen of '%s', an ELF file of %zu "
                   "bytes that is not the trusted code\n",
                   path, bytes.size());
      std::abort();
    }
  }
  return __real_dlopen(path, flags);
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  std::string path;
  if (const char *override = std::getenv("QPAL_FUZZ_PACKAGE_CODE")) {
    path = override;
  } else {
    char self[4096];
    ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
    path.assign(self, length > 0 ? size_t(length) : 0);
    path = path.substr(0, path.rfind('/') + 1) + "qpal-package-fuzzer-code.so";
  }
  trustedCode = readFile(path.c_str());
  if (trustedCode.compare(0, kElfMagic.size(), kElfMagic) != 0) {
    std::fprintf(stderr,
                 "qpal-package-fuzzer: cannot read the trusted code '%s' (set "
                 "QPAL_FUZZ_PACKAGE_CODE)\n",
                 path.c_str());
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qpalrt::fuzz::runPackageInput(data, size, trustedCode);
  return 0;
}
