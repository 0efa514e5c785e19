//===- UseFakeCudaDriver.cpp - Point the runtime at the fake driver -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Linked into RuntimeFakeCudaTests only. The runtime reads
// $QPALRT_CUDA_DRIVER when it first opens the driver, so it is set before
// main, and before any test runs.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtils.h"

#include <cstdlib>

namespace {

const bool useFakeDriver = [] {
  std::string path = qpalrt::test::besideTestBinary("libqpalrt_fake_cuda.so");
  return setenv("QPALRT_CUDA_DRIVER", path.c_str(), /*overwrite=*/1) == 0;
}();

/// The fake driver was found, so the CUDA tests ran rather than skipped.
TEST(RuntimeFakeCuda, DriverLoads) {
  ASSERT_TRUE(useFakeDriver);
  int count = 0;
  ASSERT_QPALRT_OK(qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &count));
  EXPECT_EQ(count, 1);
}

} // namespace
