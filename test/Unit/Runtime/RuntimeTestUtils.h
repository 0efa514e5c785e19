//===- RuntimeTestUtils.h - Helpers shared by the runtime tests -*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TEST_UNIT_RUNTIME_RUNTIMETESTUTILS_H
#define QPAL_TEST_UNIT_RUNTIME_RUNTIMETESTUTILS_H

#include "qpalrt.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace qpalrt::test {

/// The path of a file built next to the test binary.
inline std::string besideTestBinary(const char *name) {
  char self[4096];
  ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  std::string path(self, length > 0 ? size_t(length) : 0);
  return path.substr(0, path.rfind('/') + 1) + name;
}

/// `count` seeded random floats in +-[0.25, 1]: never zero.
inline std::vector<float> randomFloats(size_t count, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> magnitude(0.25f, 1.0f);
  std::bernoulli_distribution negative(0.5);
  std::vector<float> values(count);
  for (float &value : values)
    value = negative(engine) ? -magnitude(engine) : magnitude(engine);
  return values;
}

/// A new buffer of `context` holding `values`.
inline qpalrtBuffer *uploadFloats(qpalrtContext *context,
                                  const std::vector<float> &values) {
  qpalrtBuffer *buffer = nullptr;
  size_t bytes = values.size() * sizeof(float);
  EXPECT_EQ(qpalrtAlloc(context, bytes, &buffer), QPALRT_SUCCESS)
      << qpalrtGetLastError();
  EXPECT_EQ(qpalrtUpload(buffer, values.data(), bytes, 0), QPALRT_SUCCESS)
      << qpalrtGetLastError();
  return buffer;
}

/// Asserts success, printing the runtime's message otherwise.
#define ASSERT_QPALRT_OK(call)                                                 \
  ASSERT_EQ((call), QPALRT_SUCCESS) << qpalrtGetLastError()

/// Expects `status` and a last error message that contains `text`.
#define EXPECT_QPALRT_ERROR(call, status, text)                                \
  do {                                                                         \
    EXPECT_EQ((call), (status)) << qpalrtGetLastError();                       \
    EXPECT_NE(std::string(qpalrtGetLastError()).find(text), std::string::npos) \
        << "message: " << qpalrtGetLastError();                                \
  } while (false)

/// A launch of one block of one thread.
inline qpalrtLaunchConfig singleThread() {
  return qpalrtLaunchConfig{{1, 1, 1}, {1, 1, 1}, 0};
}

} // namespace qpalrt::test

#endif // QPAL_TEST_UNIT_RUNTIME_RUNTIMETESTUTILS_H
