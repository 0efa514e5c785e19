//===- QuantTestUtil.h - Helpers for the Quant unit tests -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TEST_UNIT_QUANT_QUANTTESTUTIL_H
#define QPAL_TEST_UNIT_QUANT_QUANTTESTUTIL_H

#include "llvm/Support/Error.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

/// Fails the test (and returns) when an llvm::Expected holds an error.
#define QPAL_ASSERT_OK(expected)                                               \
  ASSERT_TRUE(static_cast<bool>(expected))                                     \
      << llvm::toString((expected).takeError())

namespace qpal::test {

/// The shared/ folder with the reference data.
inline std::string sharedDir() {
  const char *dir = std::getenv("QPAL_SHARED_DIR");
  return dir ? dir : QPAL_SHARED_DIR_DEFAULT;
}

/// The contents of a file ("" when it cannot be read).
inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The message of a failed Expected, or "" (and the value is dropped) on
/// success.
template <typename T> std::string errorOf(llvm::Expected<T> &&expected) {
  if (expected)
    return "";
  return llvm::toString(expected.takeError());
}
inline std::string errorOf(llvm::Error &&error) {
  return error ? llvm::toString(std::move(error)) : "";
}

/// Expects `message` to contain `part`.
#define QPAL_EXPECT_CONTAINS(message, part)                                    \
  EXPECT_NE(std::string(message).find(part), std::string::npos)                \
      << "message: '" << (message) << "' lacks '" << (part) << "'"

} // namespace qpal::test

#endif // QPAL_TEST_UNIT_QUANT_QUANTTESTUTIL_H
