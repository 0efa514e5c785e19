//===- RuntimeCudaTest.cpp - The runtime's CUDA backend -------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Runs Inputs/CudaKernels.ptx (copied beside this binary) through the CUDA
// backend. Built twice: into RuntimeTests, where it uses the machine's
// driver and skips without a GPU, and into RuntimeFakeCudaTests, where
// $QPALRT_CUDA_DRIVER points at Inputs/FakeCudaDriver.cpp so that the
// backend runs on any machine.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtils.h"

#include "CudaDriver.h"

#include <cstdint>

#ifdef QPALRT_TEST_HAVE_CUDA_H
#include <cuda.h>

// The runtime declares the driver's values itself: they must be cuda.h's.
#define QPALRT_CHECK_VALUE(name)                                               \
  static_assert(qpalrt::cuda::name == ::name, #name " differs from cuda.h");
QPALRT_CHECK_VALUE(CUDA_ERROR_INVALID_VALUE)
QPALRT_CHECK_VALUE(CUDA_ERROR_OUT_OF_MEMORY)
QPALRT_CHECK_VALUE(CUDA_ERROR_NO_DEVICE)
QPALRT_CHECK_VALUE(CUDA_ERROR_INVALID_IMAGE)
QPALRT_CHECK_VALUE(CUDA_ERROR_NO_BINARY_FOR_GPU)
QPALRT_CHECK_VALUE(CUDA_ERROR_INVALID_PTX)
QPALRT_CHECK_VALUE(CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
QPALRT_CHECK_VALUE(CUDA_ERROR_NOT_FOUND)
QPALRT_CHECK_VALUE(CU_JIT_ERROR_LOG_BUFFER)
QPALRT_CHECK_VALUE(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
QPALRT_CHECK_VALUE(CU_JIT_OPTIMIZATION_LEVEL)
QPALRT_CHECK_VALUE(CU_EVENT_DISABLE_TIMING)
QPALRT_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
QPALRT_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)
QPALRT_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
QPALRT_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
QPALRT_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
QPALRT_CHECK_VALUE(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
#undef QPALRT_CHECK_VALUE
static_assert(sizeof(qpalrt::cuda::CUdeviceptr) == sizeof(::CUdeviceptr));
#endif

using namespace qpalrt::test;

namespace {

// The shapes compiled into Inputs/CudaKernels.ptx.
constexpr size_t kVaddLength = 65536, kBlock = 256;

/// Without a driver or a GPU, a CUDA context is NO_DEVICE and says why.
TEST(RuntimeCudaDevice, NoDeviceSaysWhy) {
  int count = 0;
  if (qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &count) == QPALRT_SUCCESS)
    GTEST_SKIP() << "a CUDA device is present";
  qpalrtContext *context = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtCreateContext(QPALRT_DEVICE_CUDA, 0, &context),
                      QPALRT_ERROR_NO_DEVICE, "CUDA");
  EXPECT_EQ(context, nullptr);
}

class RuntimeCuda : public ::testing::Test {
protected:
  void SetUp() override {
    int count = 0;
    if (qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &count) != QPALRT_SUCCESS)
      GTEST_SKIP() << "no CUDA device: " << qpalrtGetLastError();
    ASSERT_QPALRT_OK(qpalrtCreateContext(QPALRT_DEVICE_CUDA, 0, &context));
    ASSERT_QPALRT_OK(qpalrtLoadModule(context, ptxPath.c_str(), &module));
  }
  void TearDown() override {
    EXPECT_EQ(qpalrtDestroyContext(context), QPALRT_SUCCESS)
        << qpalrtGetLastError();
  }

  qpalrtBuffer *upload(const std::vector<float> &values) {
    return uploadFloats(context, values);
  }

  /// Runs qpal_test_vadd in `ctx` and checks c = a + 2 b.
  void checkVadd(qpalrtContext *ctx, qpalrtModule *mod) {
    std::vector<float> a = randomFloats(kVaddLength, 11);
    std::vector<float> b = randomFloats(kVaddLength, 12);
    qpalrtBuffer *buffers[3] = {
        uploadFloats(ctx, a), uploadFloats(ctx, b),
        uploadFloats(ctx, randomFloats(kVaddLength, 13))};
    qpalrtFunction *vadd = nullptr;
    ASSERT_QPALRT_OK(qpalrtGetFunction(mod, "qpal_test_vadd", &vadd));
    qpalrtLaunchConfig config = {
        {kVaddLength / kBlock, 1, 1}, {kBlock, 1, 1}, 0};
    ASSERT_QPALRT_OK(qpalrtLaunch(vadd, &config, buffers, 3));
    ASSERT_QPALRT_OK(qpalrtSynchronize(ctx));
    std::vector<float> c(kVaddLength);
    ASSERT_QPALRT_OK(
        qpalrtDownload(buffers[2], c.data(), c.size() * sizeof(float), 0));
    for (size_t i = 0; i < kVaddLength; ++i)
      ASSERT_EQ(c[i], a[i] + 2.0f * b[i]) << "element " << i;
  }

  const std::string ptxPath = besideTestBinary("qpalrt_test_kernels.ptx");
  qpalrtContext *context = nullptr;
  qpalrtModule *module = nullptr;
};

/// The device describes itself as a GPU that can run sm_80 code.
TEST_F(RuntimeCuda, DeviceInfo) {
  qpalrtDeviceInfo info;
  ASSERT_QPALRT_OK(qpalrtGetDeviceInfo(context, &info));
  EXPECT_EQ(info.kind, QPALRT_DEVICE_CUDA);
  EXPECT_GT(std::string(info.name).size(), 0u);
  EXPECT_GT(info.multiprocessorCount, 0);
  EXPECT_GE(info.computeCapabilityMajor, 8);
  EXPECT_GT(info.totalMemoryBytes, uint64_t(1) << 30);
  EXPECT_GT(info.maxSharedMemoryPerBlock, 64u * 1024);
  EXPECT_GT(info.l2CacheBytes, 0u);
  EXPECT_GT(info.driverVersion, 0);
}

/// A PTX kernel computes c = a + 2 b exactly on random data.
TEST_F(RuntimeCuda, VectorAdd) { checkVadd(context, module); }

/// A second context on the device shares the primary context: destroying it
/// leaves the first one working.
TEST_F(RuntimeCuda, SecondContext) {
  qpalrtContext *second = nullptr;
  ASSERT_QPALRT_OK(qpalrtCreateContext(QPALRT_DEVICE_CUDA, 0, &second));
  qpalrtModule *secondModule = nullptr;
  ASSERT_QPALRT_OK(qpalrtLoadModule(second, ptxPath.c_str(), &secondModule));
  checkVadd(second, secondModule);
  ASSERT_QPALRT_OK(qpalrtDestroyContext(second));
  checkVadd(context, module);
}

/// More than 48 KiB of dynamic shared memory is opted in to.
TEST_F(RuntimeCuda, LargeDynamicSharedMemory) {
  constexpr size_t kBlocks = 4, kLength = kBlocks * kBlock;
  std::vector<float> in = randomFloats(kLength, 21);
  qpalrtBuffer *buffers[2] = {upload(in), upload(randomFloats(kLength, 22))};
  qpalrtFunction *reverse = nullptr;
  ASSERT_QPALRT_OK(
      qpalrtGetFunction(module, "qpal_test_reverse_smem", &reverse));
  qpalrtLaunchConfig config = {{kBlocks, 1, 1}, {kBlock, 1, 1}, 64 * 1024};
  ASSERT_QPALRT_OK(qpalrtLaunch(reverse, &config, buffers, 2));
  std::vector<float> out(kLength);
  ASSERT_QPALRT_OK(
      qpalrtDownload(buffers[1], out.data(), kLength * sizeof(float), 0));
  for (size_t i = 0; i < kLength; ++i)
    ASSERT_EQ(out[i], in[i / kBlock * kBlock + kBlock - 1 - i % kBlock]) << i;
}

/// Ranged launches are for CPU kernels: a CUDA kernel is refused by name.
TEST_F(RuntimeCuda, LaunchRangeIsForCpuKernels) {
  qpalrtBuffer *buffers[3];
  for (qpalrtBuffer *&buffer : buffers)
    buffer = upload(randomFloats(kVaddLength, 41));
  qpalrtFunction *vadd = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_vadd", &vadd));
  EXPECT_EQ(qpalrtLaunchRange(vadd, buffers, 3, kVaddLength, 0),
            QPALRT_ERROR_UNSUPPORTED);
  EXPECT_NE(std::string(qpalrtGetLastError())
                .find("'qpal_test_vadd' is a "
                      "CUDA kernel"),
            std::string::npos)
      << qpalrtGetLastError();
}

/// Timing reports a positive time per launch.
TEST_F(RuntimeCuda, TimeLaunch) {
  qpalrtBuffer *buffers[3];
  for (qpalrtBuffer *&buffer : buffers)
    buffer = upload(randomFloats(kVaddLength, 31));
  qpalrtFunction *vadd = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_vadd", &vadd));
  qpalrtLaunchConfig config = {{kVaddLength / kBlock, 1, 1}, {kBlock, 1, 1}, 0};
  double microseconds = 0;
  ASSERT_QPALRT_OK(
      qpalrtTimeLaunch(vadd, &config, buffers, 3, 20, &microseconds));
  EXPECT_GT(microseconds, 0.0);
}

/// Timing over rotating argument sets replays a captured graph on a real
/// driver (the stand-in driver has no graphs: back-to-back launches); every
/// set's output is a + 2 b of its own inputs afterwards.
TEST_F(RuntimeCuda, TimeLaunchSets) {
  constexpr size_t kSets = 3;
  qpalrtBuffer *buffers[kSets][3];
  std::vector<float> inputs[kSets][2];
  for (size_t set = 0; set < kSets; ++set) {
    for (int i = 0; i < 2; ++i) {
      inputs[set][i] = randomFloats(kVaddLength, 40 + 2 * set + i);
      buffers[set][i] = upload(inputs[set][i]);
    }
    buffers[set][2] = upload(randomFloats(kVaddLength, 60 + set));
  }
  qpalrtFunction *vadd = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_vadd", &vadd));
  qpalrtLaunchConfig config = {{kVaddLength / kBlock, 1, 1}, {kBlock, 1, 1}, 0};
  double microseconds = 0;
  int usedGraph = -1;
  ASSERT_QPALRT_OK(qpalrtTimeLaunchSets(vadd, &config, &buffers[0][0], 3, kSets,
                                        10, &microseconds, &usedGraph));
  EXPECT_GT(microseconds, 0.0);
  EXPECT_TRUE(usedGraph == 0 || usedGraph == 1);
  for (size_t set = 0; set < kSets; ++set) {
    std::vector<float> out(kVaddLength);
    ASSERT_QPALRT_OK(qpalrtDownload(buffers[set][2], out.data(),
                                    kVaddLength * sizeof(float), 0));
    for (size_t i = 0; i < kVaddLength; ++i)
      ASSERT_EQ(out[i], inputs[set][0][i] + 2.0f * inputs[set][1][i])
          << "set " << set << " element " << i;
  }
}

/// Bad PTX is a format error carrying the JIT's log.
TEST_F(RuntimeCuda, JitErrorLog) {
  const char ptx[] = ".version 7.0\n.target sm_80\n.address_size 64\n"
                     ".visible .entry broken() { bogus.instruction; }\n";
  qpalrtModule *bad = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtLoadModuleData(context, ptx, sizeof(ptx) - 1,
                                           QPALRT_MODULE_FORMAT_PTX, &bad),
                      QPALRT_ERROR_FORMAT,
                      "cuModuleLoadDataEx failed for '<memory>': "
                      "CUDA_ERROR_INVALID_PTX");
  EXPECT_NE(std::string(qpalrtGetLastError()).find("line 4"), std::string::npos)
      << qpalrtGetLastError();
  EXPECT_EQ(bad, nullptr);
}

/// Modules load from memory (PTX found without a format); a shared object
/// cannot load on a GPU.
TEST_F(RuntimeCuda, LoadFromMemory) {
  const char ptx[] = ".version 7.0\n.target sm_80\n.address_size 64\n"
                     ".visible .entry empty() { ret; }\n";
  qpalrtModule *fromMemory = nullptr;
  ASSERT_QPALRT_OK(qpalrtLoadModuleData(
      context, ptx, sizeof(ptx) - 1, QPALRT_MODULE_FORMAT_AUTO, &fromMemory));
  qpalrtFunction *empty = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(fromMemory, "empty", &empty));
  ASSERT_QPALRT_OK(qpalrtUnloadModule(fromMemory));
  EXPECT_QPALRT_ERROR(qpalrtLoadModuleData(context, ptx, sizeof(ptx),
                                           QPALRT_MODULE_FORMAT_SHARED_OBJECT,
                                           &fromMemory),
                      QPALRT_ERROR_UNSUPPORTED, "on a CUDA context");
}

/// A missing kernel is NOT_FOUND naming it and the module.
TEST_F(RuntimeCuda, MissingFunction) {
  qpalrtFunction *function = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtGetFunction(module, "qpal_no_such", &function),
                      QPALRT_ERROR_NOT_FOUND,
                      "function 'qpal_no_such' not found in module '" +
                          ptxPath + "'");
}

/// Where the driver can tell (12.4 and later), a launch with the wrong
/// number of buffers is rejected before it runs.
TEST_F(RuntimeCuda, WrongParameterCount) {
  qpalrtDeviceInfo info;
  ASSERT_QPALRT_OK(qpalrtGetDeviceInfo(context, &info));
  if (info.driverVersion < 12040)
    GTEST_SKIP() << "driver " << info.driverVersion
                 << " lacks cuFuncGetParamInfo";
  qpalrtBuffer *buffers[2] = {upload(randomFloats(kVaddLength, 41)),
                              upload(randomFloats(kVaddLength, 42))};
  qpalrtFunction *vadd = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_vadd", &vadd));
  qpalrtLaunchConfig config = {{kVaddLength / kBlock, 1, 1}, {kBlock, 1, 1}, 0};
  EXPECT_QPALRT_ERROR(qpalrtLaunch(vadd, &config, buffers, 2),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "kernel 'qpal_test_vadd' takes 3 parameters, launched "
                      "with 2 buffers");
}

/// An allocation larger than any GPU is OUT_OF_MEMORY naming its size.
TEST_F(RuntimeCuda, OutOfMemory) {
  qpalrtBuffer *buffer = nullptr;
  size_t huge = size_t(1) << 50;
  EXPECT_QPALRT_ERROR(qpalrtAlloc(context, huge, &buffer),
                      QPALRT_ERROR_OUT_OF_MEMORY,
                      "cuMemAlloc failed for 1125899906842624 bytes: "
                      "CUDA_ERROR_OUT_OF_MEMORY");
  EXPECT_EQ(buffer, nullptr);
}

} // namespace
