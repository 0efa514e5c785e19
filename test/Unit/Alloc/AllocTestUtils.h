//===- AllocTestUtils.h - Shared helpers of the Alloc unit tests -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TEST_UNIT_ALLOC_ALLOCTESTUTILS_H
#define QPAL_TEST_UNIT_ALLOC_ALLOCTESTUTILS_H

#include "qpal/Alloc/Msq.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>

namespace qpal::alloc::test {

/// The shared/ folder: $QPAL_SHARED_DIR or the configured default.
inline std::string sharedDir() {
  const char *dir = std::getenv("QPAL_SHARED_DIR");
  return dir ? dir : QPAL_SHARED_DIR_DEFAULT;
}

/// A file of shared/reference/data.
inline std::string referenceData(const std::string &name) {
  return sharedDir() + "/reference/data/" + name;
}

/// Unwraps `value` or fails the test with the error's message.
template <typename T> T unwrap(llvm::Expected<T> value) {
  if (!value) {
    ADD_FAILURE() << llvm::toString(value.takeError());
    return T();
  }
  return std::move(*value);
}

/// Parses JSON text, failing the test (and returning null) on bad text.
inline llvm::json::Value parseJson(llvm::StringRef text) {
  auto value = llvm::json::parse(text);
  if (!value) {
    ADD_FAILURE() << llvm::toString(value.takeError());
    return nullptr;
  }
  return std::move(*value);
}

/// The message of an expected error ("" and a failure when it succeeded).
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(value.takeError());
}

/// Llama-3.1-8B with the reference's sensitivities.
inline MsqProblem llamaProblem() {
  MsqProblem problem;
  problem.model = ModelConfig::llama31_8b();
  problem.sensitivities =
      unwrap(loadSensitivities(referenceData("llama31_8b_sensitivity.json")));
  return problem;
}

/// The reference RTX 4090 latency table.
inline std::shared_ptr<const LatencyModel> rtx4090Table() {
  auto table =
      loadLatencyTable(referenceData("llama31_8b_latency_rtx4090.json"));
  if (!table) {
    ADD_FAILURE() << llvm::toString(table.takeError());
    return nullptr;
  }
  return std::shared_ptr<const LatencyModel>(std::move(*table));
}

} // namespace qpal::alloc::test

#endif // QPAL_TEST_UNIT_ALLOC_ALLOCTESTUTILS_H
