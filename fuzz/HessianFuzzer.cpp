//===- HessianFuzzer.cpp - libFuzzer harness for the Hessian reader -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes to the `.qpalh` reader (parseHessianFile) twice: as
// they are (the magic and checksum checks), and as the body behind the
// magic with a valid checksum appended, so that the fuzzer reaches the
// entry reader. A file that reads must write back (serializeHessianFile)
// to bytes that read to the same statistics, and every second moment must
// be symmetric with a finite, non-negative diagonal. Any error is fine; a
// crash, a sanitizer report or a broken property is a finding.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Calibration.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace qpal::model;

namespace {

[[noreturn]] void finding(const std::string &what) {
  std::fprintf(stderr, "finding: %s\n", what.c_str());
  std::abort();
}

/// FNV-1a, 64-bit: the harness does not trust the library's.
uint64_t fnv1a(const std::string &bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void check(const HessianSet &set) {
  for (const auto &[name, input] : set.inputs) {
    int64_t n = input.size;
    if (n <= 0 || int64_t(input.mean.size()) != n ||
        int64_t(input.secondMoment.size()) != n * n)
      finding("input '" + name + "' has inconsistent sizes");
    for (int64_t i = 0; i < n; ++i) {
      double diagonal = input.secondMoment[i * n + i];
      if (!std::isfinite(diagonal) || diagonal < 0)
        finding("input '" + name + "' has a bad diagonal");
      for (int64_t j = 0; j < i; ++j)
        if (input.secondMoment[i * n + j] != input.secondMoment[j * n + i])
          finding("input '" + name + "' is not symmetric");
    }
  }
  llvm::Expected<std::string> bytes = serializeHessianFile(set);
  if (!bytes)
    finding("a file that read does not write: " +
            llvm::toString(bytes.takeError()));
  llvm::Expected<HessianSet> again = parseHessianFile(*bytes, "written");
  if (!again)
    finding("written bytes do not read back: " +
            llvm::toString(again.takeError()));
  if (again->inputs.size() != set.inputs.size())
    finding("a round trip changes the number of inputs");
  for (const auto &[name, input] : set.inputs) {
    auto found = again->inputs.find(name);
    if (found == again->inputs.end() || found->second.size != input.size ||
        found->second.tokens != input.tokens ||
        found->second.mean != input.mean ||
        found->second.secondMoment != input.secondMoment)
      finding("a round trip changes input '" + name + "'");
  }
}

void run(llvm::StringRef bytes) {
  llvm::Expected<HessianSet> set = parseHessianFile(bytes, "fuzz.qpalh");
  if (!set) {
    llvm::consumeError(set.takeError());
    return;
  }
  check(*set);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string raw(reinterpret_cast<const char *>(data), size);
  run(raw);
  std::string sealed = std::string("QPALHESS", 8) + raw;
  uint64_t sum = fnv1a(sealed);
  sealed.append(reinterpret_cast<const char *>(&sum), 8);
  run(sealed);
  return 0;
}
