//===- TestUtils.h - Shared helpers of the Model unit tests -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TEST_UNIT_MODEL_TESTUTILS_H
#define QPAL_TEST_UNIT_MODEL_TESTUTILS_H

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qpal::model::test {

/// Returns the path of `name` under test/Model/Inputs.
std::string inputPath(const std::string &name);

/// Returns the SmolLM2 GGUF path ($QPAL_SMOLLM2_GGUF or the default under
/// models/) if the file exists.
std::optional<std::string> findSmolLM2();

/// Returns the shared/ folder ($QPAL_SHARED_DIR or the configured default).
std::string sharedDir();

/// Parses the JSON file `path`; fails the current test on error.
std::optional<llvm::json::Value> readJson(const std::string &path);

/// Returns a JSON array of numbers as doubles.
std::vector<double> numbers(const llvm::json::Array *array);

/// Returns a JSON array of integers as int32.
std::vector<int32_t> integers(const llvm::json::Array *array);

/// A little-endian byte sink for building binary fixtures in tests.
struct ByteWriter {
  std::string bytes;
  template <typename T> void put(T value) {
    bytes.append(reinterpret_cast<const char *>(&value), sizeof(T));
  }
  void putString(const std::string &s) {
    put<uint64_t>(s.size());
    bytes += s;
  }
  void pad(size_t alignment) {
    while (bytes.size() % alignment)
      bytes += '\0';
  }
};

} // namespace qpal::model::test

#endif // QPAL_TEST_UNIT_MODEL_TESTUTILS_H
