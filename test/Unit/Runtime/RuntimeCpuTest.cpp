//===- RuntimeCpuTest.cpp - The runtime's CPU backend, end to end ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Loads Inputs/CpuKernels.c (built as a shared object beside this binary),
// runs its kernels on random data and compares with the host; then checks
// that every misuse of the API is an error whose message names the culprit.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestUtils.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

using namespace qpalrt::test;

namespace {

// The shapes compiled into Inputs/CpuKernels.c.
constexpr size_t kRows = 37, kCols = 53, kSumLength = 16;

class RuntimeCpu : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_QPALRT_OK(qpalrtCreateContext(QPALRT_DEVICE_CPU, 0, &context));
    ASSERT_QPALRT_OK(qpalrtLoadModule(context, kernelsPath.c_str(), &module));
  }
  void TearDown() override {
    EXPECT_EQ(qpalrtDestroyContext(context), QPALRT_SUCCESS);
  }

  qpalrtBuffer *upload(const std::vector<float> &values) {
    return uploadFloats(context, values);
  }

  /// The contents of a buffer of `count` floats.
  std::vector<float> download(const qpalrtBuffer *buffer, size_t count) {
    std::vector<float> values(count);
    EXPECT_EQ(qpalrtDownload(buffer, values.data(), count * sizeof(float), 0),
              QPALRT_SUCCESS)
        << qpalrtGetLastError();
    return values;
  }

  /// Reads the call counter of `qpal_test_count`.
  int readCounter() {
    qpalrtFunction *read = nullptr;
    qpalrtBuffer *out = nullptr;
    int value = -1;
    qpalrtLaunchConfig config = singleThread();
    EXPECT_EQ(qpalrtGetFunction(module, "qpal_test_read_counter", &read),
              QPALRT_SUCCESS);
    EXPECT_EQ(qpalrtAlloc(context, sizeof(int), &out), QPALRT_SUCCESS);
    EXPECT_EQ(qpalrtLaunch(read, &config, &out, 1), QPALRT_SUCCESS);
    EXPECT_EQ(qpalrtDownload(out, &value, sizeof(int), 0), QPALRT_SUCCESS);
    qpalrtFree(out);
    return value;
  }

  const std::string kernelsPath = besideTestBinary("libqpalrt_test_kernels.so");
  qpalrtContext *context = nullptr;
  qpalrtModule *module = nullptr;
};

/// Runs the matrix-vector kernel and checks it against the host.
void checkMatvec(qpalrtContext *context, qpalrtModule *module) {
  std::vector<float> w = randomFloats(kRows * kCols, 1);
  std::vector<float> x = randomFloats(kCols, 2);
  std::vector<float> y = randomFloats(kRows, 3);
  qpalrtBuffer *buffers[3] = {uploadFloats(context, w),
                              uploadFloats(context, x),
                              uploadFloats(context, y)};
  qpalrtFunction *matvec = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_matvec", &matvec));
  qpalrtLaunchConfig config = singleThread();
  ASSERT_QPALRT_OK(qpalrtLaunch(matvec, &config, buffers, 3));
  ASSERT_QPALRT_OK(qpalrtSynchronize(context));
  std::vector<float> result(kRows);
  ASSERT_QPALRT_OK(
      qpalrtDownload(buffers[2], result.data(), kRows * sizeof(float), 0));
  for (size_t i = 0; i < kRows; ++i) {
    double expected = 0.5 * y[i];
    for (size_t k = 0; k < kCols; ++k)
      expected += double(w[i * kCols + k]) * x[k];
    EXPECT_NEAR(result[i], expected, 1e-5 * (1 + std::abs(expected))) << i;
  }
}

/// There is one CPU device, and it describes itself.
TEST(RuntimeCpuDevice, Info) {
  int count = 0;
  ASSERT_QPALRT_OK(qpalrtGetDeviceCount(QPALRT_DEVICE_CPU, &count));
  EXPECT_EQ(count, 1);
  qpalrtContext *context = nullptr;
  ASSERT_QPALRT_OK(qpalrtCreateContext(QPALRT_DEVICE_CPU, 0, &context));
  qpalrtDeviceInfo info;
  ASSERT_QPALRT_OK(qpalrtGetDeviceInfo(context, &info));
  EXPECT_EQ(info.kind, QPALRT_DEVICE_CPU);
  EXPECT_EQ(info.ordinal, 0);
  EXPECT_GT(std::string(info.name).size(), 0u);
  EXPECT_GE(info.multiprocessorCount, 1);
  EXPECT_GT(info.totalMemoryBytes, uint64_t(1) << 20);
  EXPECT_EQ(info.computeCapabilityMajor, 0);
  ASSERT_QPALRT_OK(qpalrtDestroyContext(context));
}

/// A CPU ordinal other than 0 is rejected, naming it.
TEST(RuntimeCpuDevice, OrdinalOutOfRange) {
  qpalrtContext *context = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtCreateContext(QPALRT_DEVICE_CPU, 1, &context),
                      QPALRT_ERROR_INVALID_ARGUMENT, "ordinal 1");
  EXPECT_QPALRT_ERROR(
      qpalrtCreateContext(static_cast<qpalrtDeviceKind>(7), 0, &context),
      QPALRT_ERROR_INVALID_ARGUMENT, "unknown device kind 7");
  EXPECT_EQ(context, nullptr);
}

/// Status names are the enumerators'.
TEST(RuntimeCpuDevice, StatusStrings) {
  EXPECT_STREQ(qpalrtStatusString(QPALRT_ERROR_NOT_FOUND),
               "QPALRT_ERROR_NOT_FOUND");
  EXPECT_STREQ(qpalrtStatusString(QPALRT_SUCCESS), "QPALRT_SUCCESS");
  EXPECT_STREQ(qpalrtStatusString(static_cast<qpalrtStatus>(99)),
               "QPALRT_UNKNOWN_STATUS");
}

/// A loaded .so runs a matrix-vector product that matches the host.
TEST_F(RuntimeCpu, MatvecMatchesHost) { checkMatvec(context, module); }

/// The same kernels load from memory too, with the format given or found.
TEST_F(RuntimeCpu, LoadFromMemory) {
  std::ifstream file(kernelsPath, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                          std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 0u);
  for (qpalrtModuleFormat format :
       {QPALRT_MODULE_FORMAT_SHARED_OBJECT, QPALRT_MODULE_FORMAT_AUTO}) {
    qpalrtModule *fromMemory = nullptr;
    ASSERT_QPALRT_OK(qpalrtLoadModuleData(context, bytes.data(), bytes.size(),
                                          format, &fromMemory));
    checkMatvec(context, fromMemory);
    ASSERT_QPALRT_OK(qpalrtUnloadModule(fromMemory));
  }
}

/// Every arity from 1 to 8 passes each buffer in its place: the last buffer
/// becomes sum_j (j + 1) * buffer_j.
TEST_F(RuntimeCpu, EveryArity) {
  for (size_t arity = 1; arity <= QPALRT_MAX_KERNEL_ARGS; ++arity) {
    std::vector<std::vector<float>> inputs;
    std::vector<qpalrtBuffer *> buffers;
    for (size_t j = 0; j < arity; ++j) {
      inputs.push_back(randomFloats(kSumLength, unsigned(10 * arity + j)));
      buffers.push_back(upload(inputs.back()));
    }
    std::string name = "qpal_test_sum" + std::to_string(arity);
    qpalrtFunction *sum = nullptr;
    ASSERT_QPALRT_OK(qpalrtGetFunction(module, name.c_str(), &sum));
    qpalrtLaunchConfig config = singleThread();
    ASSERT_QPALRT_OK(qpalrtLaunch(sum, &config, buffers.data(), arity));
    std::vector<float> result = download(buffers.back(), kSumLength);
    for (size_t i = 0; i < kSumLength; ++i) {
      float expected = 0;
      for (size_t j = 0; j < arity; ++j)
        expected += float(j + 1) * inputs[j][i];
      EXPECT_FLOAT_EQ(result[i], expected) << name << " element " << i;
    }
    for (qpalrtBuffer *buffer : buffers)
      ASSERT_QPALRT_OK(qpalrtFree(buffer));
  }
}

/// A kernel without parameters runs once per launch; timing runs it once
/// more to warm up.
TEST_F(RuntimeCpu, NoParametersAndTiming) {
  qpalrtFunction *count = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_count", &count));
  qpalrtLaunchConfig config = singleThread();
  int before = readCounter();
  for (int i = 0; i < 3; ++i)
    ASSERT_QPALRT_OK(qpalrtLaunch(count, &config, nullptr, 0));
  EXPECT_EQ(readCounter(), before + 3);
  double microseconds = -1;
  ASSERT_QPALRT_OK(
      qpalrtTimeLaunch(count, &config, nullptr, 0, 5, &microseconds));
  EXPECT_GE(microseconds, 0.0);
  EXPECT_EQ(readCounter(), before + 3 + 6);
}

/// A ranged launch calls the kernel once per worker with a range of its
/// own: together they cover [0, count) in contiguous, disjoint pieces, for
/// every thread count, including more threads than iterations.
TEST_F(RuntimeCpu, LaunchRangePartitions) {
  qpalrtFunction *ranged = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_ranged", &ranged));
  const int64_t count = 1000;
  std::vector<float> x = randomFloats(count, 7);
  qpalrtBuffer *xBuffer = upload(x);
  for (int threads : {0, 1, 2, 3, 7, 2000}) {
    qpalrtBuffer *y = upload(std::vector<float>(count, -1.0f));
    qpalrtBuffer *owner = nullptr;
    ASSERT_QPALRT_OK(qpalrtAlloc(context, count * sizeof(int64_t), &owner));
    std::vector<int64_t> unset(count, -1);
    ASSERT_QPALRT_OK(
        qpalrtUpload(owner, unset.data(), count * sizeof(int64_t), 0));
    qpalrtBuffer *buffers[] = {xBuffer, y, owner};
    ASSERT_QPALRT_OK(qpalrtLaunchRange(ranged, buffers, 3, count, threads));
    std::vector<float> result = download(y, count);
    std::vector<int64_t> owners(count);
    ASSERT_QPALRT_OK(
        qpalrtDownload(owner, owners.data(), count * sizeof(int64_t), 0));
    int pieces = 0;
    for (int64_t i = 0; i < count; ++i) {
      EXPECT_EQ(result[i], 2.0f * x[i] + 1.0f) << "element " << i;
      // Each piece starts where its owner says, and pieces follow in order.
      ASSERT_GE(owners[i], 0) << "element " << i << " was never visited";
      ASSERT_LE(owners[i], i);
      if (owners[i] == i)
        ++pieces;
      else
        ASSERT_EQ(owners[i], owners[i - 1]) << "element " << i;
    }
    if (threads > 0)
      EXPECT_EQ(pieces, std::min<int64_t>(threads, count)) << threads;
    ASSERT_QPALRT_OK(qpalrtFree(y));
    ASSERT_QPALRT_OK(qpalrtFree(owner));
  }
  ASSERT_QPALRT_OK(qpalrtFree(xBuffer));
}

/// Ranged launches from several host threads at once do not mix up their
/// arguments (the workers serve one launch at a time).
TEST_F(RuntimeCpu, LaunchRangeFromManyThreads) {
  qpalrtFunction *ranged = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_ranged", &ranged));
  const int64_t count = 4096;
  std::vector<std::thread> callers;
  std::vector<int> failures(4, 0);
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      std::vector<float> x = randomFloats(count, unsigned(100 + c));
      qpalrtBuffer *xBuffer = uploadFloats(context, x);
      qpalrtBuffer *y = uploadFloats(context, std::vector<float>(count, 0));
      qpalrtBuffer *owner = nullptr;
      if (qpalrtAlloc(context, count * sizeof(int64_t), &owner)) {
        ++failures[c];
        return;
      }
      qpalrtBuffer *buffers[] = {xBuffer, y, owner};
      for (int round = 0; round < 20; ++round)
        if (qpalrtLaunchRange(ranged, buffers, 3, count, 2) != QPALRT_SUCCESS)
          ++failures[c];
      std::vector<float> result(count);
      qpalrtDownload(y, result.data(), count * sizeof(float), 0);
      for (int64_t i = 0; i < count; ++i)
        failures[c] += result[i] != 2.0f * x[i] + 1.0f;
      qpalrtFree(xBuffer);
      qpalrtFree(y);
      qpalrtFree(owner);
    });
  for (std::thread &caller : callers)
    caller.join();
  for (int c = 0; c < 4; ++c)
    EXPECT_EQ(failures[c], 0) << "caller " << c;
}

/// Bad ranged launches are refused by name.
TEST_F(RuntimeCpu, LaunchRangeErrors) {
  qpalrtFunction *ranged = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_ranged", &ranged));
  qpalrtBuffer *a = upload(std::vector<float>(4, 1.0f));
  qpalrtBuffer *buffers[QPALRT_MAX_KERNEL_ARGS] = {a, a, a, a, a, a, a, a};
  EXPECT_EQ(qpalrtLaunchRange(ranged, buffers, 3, -1, 0),
            QPALRT_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qpalrtGetLastError()).find("must not be negative"),
            std::string::npos)
      << qpalrtGetLastError();
  EXPECT_EQ(qpalrtLaunchRange(ranged, buffers, 3, 4, -2),
            QPALRT_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qpalrtGetLastError()).find("on -2 threads"),
            std::string::npos)
      << qpalrtGetLastError();
  EXPECT_EQ(qpalrtLaunchRange(ranged, buffers, QPALRT_MAX_KERNEL_ARGS, 4, 0),
            QPALRT_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qpalrtGetLastError()).find("and a range"),
            std::string::npos)
      << qpalrtGetLastError();
  EXPECT_EQ(qpalrtLaunchRange(nullptr, buffers, 3, 4, 0),
            QPALRT_ERROR_INVALID_ARGUMENT);
  // An empty range calls nothing.
  EXPECT_EQ(qpalrtLaunchRange(ranged, buffers, 3, 0, 0), QPALRT_SUCCESS);
  ASSERT_QPALRT_OK(qpalrtFree(a));
}

/// Timing over argument sets warms every set up once, then runs
/// `iterations` rounds of all sets; bad counts are rejected by name.
TEST_F(RuntimeCpu, TimeLaunchSets) {
  qpalrtFunction *count = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_count", &count));
  qpalrtLaunchConfig config = singleThread();
  int before = readCounter();
  double microseconds = -1;
  int usedGraph = -1;
  ASSERT_QPALRT_OK(qpalrtTimeLaunchSets(count, &config, nullptr, 0, 3, 4,
                                        &microseconds, &usedGraph));
  EXPECT_GE(microseconds, 0.0);
  EXPECT_EQ(usedGraph, 0);
  EXPECT_EQ(readCounter(), before + 3 + 3 * 4);
  EXPECT_QPALRT_ERROR(qpalrtTimeLaunchSets(count, &config, nullptr, 0, 0, 4,
                                           &microseconds, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "numSets must be at least 1, got 0");
  EXPECT_QPALRT_ERROR(qpalrtTimeLaunchSets(count, &config, nullptr, 0, 2, 0,
                                           &microseconds, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "iterations must be at least 1, got 0");
  EXPECT_QPALRT_ERROR(qpalrtTimeLaunchSets(count, &config, nullptr, 1, 2, 1,
                                           &microseconds, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'buffers' is null");
}

/// Looking a function up twice gives the same handle.
TEST_F(RuntimeCpu, FunctionHandlesAreCached) {
  qpalrtFunction *first = nullptr, *second = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_matvec", &first));
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_matvec", &second));
  EXPECT_EQ(first, second);
}

/// A missing file is an I/O error naming it; a file that is not a shared
/// object is a format error naming it.
TEST_F(RuntimeCpu, BadModuleFiles) {
  qpalrtModule *bad = nullptr;
  EXPECT_QPALRT_ERROR(
      qpalrtLoadModule(context, "/nonexistent/kernels.so", &bad),
      QPALRT_ERROR_IO, "cannot open module '/nonexistent/kernels.so'");
  std::string textPath = testing::TempDir() + "qpalrt-not-a-module.txt";
  std::ofstream(textPath) << "not a shared object\n";
  EXPECT_QPALRT_ERROR(qpalrtLoadModule(context, textPath.c_str(), &bad),
                      QPALRT_ERROR_FORMAT, textPath);
  std::remove(textPath.c_str());
  const char ptx[] = ".version 8.0\n";
  EXPECT_QPALRT_ERROR(qpalrtLoadModuleData(context, ptx, sizeof(ptx),
                                           QPALRT_MODULE_FORMAT_PTX, &bad),
                      QPALRT_ERROR_UNSUPPORTED, "CPU context");
  EXPECT_EQ(bad, nullptr);
}

/// A missing symbol is NOT_FOUND naming the symbol and the module.
TEST_F(RuntimeCpu, MissingFunction) {
  qpalrtFunction *function = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtGetFunction(module, "qpal_no_such", &function),
                      QPALRT_ERROR_NOT_FOUND,
                      "function 'qpal_no_such' not found in module '" +
                          kernelsPath + "'");
  EXPECT_EQ(function, nullptr);
}

/// Copies must stay inside the buffer, offsets included, without overflow.
TEST_F(RuntimeCpu, CopiesAreBoundsChecked) {
  qpalrtBuffer *buffer = nullptr;
  ASSERT_QPALRT_OK(qpalrtAlloc(context, 64, &buffer));
  size_t size = 0;
  ASSERT_QPALRT_OK(qpalrtGetBufferSize(buffer, &size));
  EXPECT_EQ(size, 64u);
  std::vector<char> host(128, 1);
  EXPECT_QPALRT_ERROR(qpalrtUpload(buffer, host.data(), 65, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "65 bytes at offset 0 exceed the buffer of 64 bytes");
  EXPECT_QPALRT_ERROR(qpalrtUpload(buffer, host.data(), 8, 60),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "8 bytes at offset 60 exceed the buffer of 64 bytes");
  EXPECT_QPALRT_ERROR(qpalrtDownload(buffer, host.data(), 1, SIZE_MAX),
                      QPALRT_ERROR_INVALID_ARGUMENT, "qpalrtDownload: 1 bytes");
  EXPECT_QPALRT_ERROR(qpalrtDownload(buffer, host.data(), SIZE_MAX, 1),
                      QPALRT_ERROR_INVALID_ARGUMENT, "exceed the buffer");
  // The last byte is in range.
  ASSERT_QPALRT_OK(qpalrtUpload(buffer, host.data(), 4, 60));
  ASSERT_QPALRT_OK(qpalrtDownload(buffer, host.data() + 64, 64, 0));
  EXPECT_EQ(host[127], 1);
}

/// Null pointers and empty sizes are rejected with the parameter's name.
TEST_F(RuntimeCpu, NullArguments) {
  qpalrtBuffer *buffer = nullptr;
  qpalrtFunction *function = nullptr;
  qpalrtLaunchConfig config = singleThread();
  char host[4] = {1, 2, 3, 4};
  EXPECT_QPALRT_ERROR(qpalrtCreateContext(QPALRT_DEVICE_CPU, 0, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'out' is null");
  EXPECT_QPALRT_ERROR(qpalrtGetDeviceInfo(context, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'info' is null");
  EXPECT_QPALRT_ERROR(qpalrtLoadModule(context, nullptr, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'path' is null");
  EXPECT_QPALRT_ERROR(qpalrtLoadModuleData(nullptr, host, 4,
                                           QPALRT_MODULE_FORMAT_AUTO, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'context' is null");
  EXPECT_QPALRT_ERROR(qpalrtGetFunction(module, nullptr, &function),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'name' is null");
  EXPECT_QPALRT_ERROR(qpalrtAlloc(context, 0, &buffer),
                      QPALRT_ERROR_INVALID_ARGUMENT, "at least 1 byte");
  EXPECT_QPALRT_ERROR(qpalrtAlloc(nullptr, 4, &buffer),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'context' is null");
  ASSERT_QPALRT_OK(qpalrtAlloc(context, 4, &buffer));
  EXPECT_QPALRT_ERROR(qpalrtUpload(buffer, nullptr, 4, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'src' is null");
  EXPECT_QPALRT_ERROR(qpalrtDownload(nullptr, host, 4, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'buffer' is null");
  EXPECT_QPALRT_ERROR(qpalrtDownload(buffer, nullptr, 4, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'dst' is null");
  EXPECT_QPALRT_ERROR(qpalrtLaunch(nullptr, &config, &buffer, 1),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'function' is null");
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_sum1", &function));
  EXPECT_QPALRT_ERROR(qpalrtLaunch(function, nullptr, &buffer, 1),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'config' is null");
  EXPECT_QPALRT_ERROR(qpalrtSynchronize(nullptr), QPALRT_ERROR_INVALID_ARGUMENT,
                      "'context' is null");
  // Releasing null is a no-op, like free(NULL).
  EXPECT_EQ(qpalrtFree(nullptr), QPALRT_SUCCESS);
  EXPECT_EQ(qpalrtUnloadModule(nullptr), QPALRT_SUCCESS);
  EXPECT_EQ(qpalrtDestroyContext(nullptr), QPALRT_SUCCESS);
}

/// Launches check the buffer list and the grid.
TEST_F(RuntimeCpu, BadLaunches) {
  qpalrtFunction *sum = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_sum2", &sum));
  qpalrtBuffer *buffers[QPALRT_MAX_KERNEL_ARGS + 1] = {};
  for (qpalrtBuffer *&buffer : buffers)
    ASSERT_QPALRT_OK(qpalrtAlloc(context, kSumLength * sizeof(float), &buffer));
  qpalrtLaunchConfig config = singleThread();
  EXPECT_QPALRT_ERROR(qpalrtLaunch(sum, &config, buffers, 9),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "'qpal_test_sum2' launched with 9 buffers, at most 8");
  EXPECT_QPALRT_ERROR(qpalrtLaunch(sum, &config, nullptr, 2),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'buffers' is null");
  qpalrtBuffer *withNull[2] = {buffers[0], nullptr};
  EXPECT_QPALRT_ERROR(qpalrtLaunch(sum, &config, withNull, 2),
                      QPALRT_ERROR_INVALID_ARGUMENT, "buffer 1 is null");
  qpalrtLaunchConfig emptyGrid = {{4, 0, 1}, {1, 1, 1}, 0};
  EXPECT_QPALRT_ERROR(qpalrtLaunch(sum, &emptyGrid, buffers, 2),
                      QPALRT_ERROR_INVALID_ARGUMENT, "empty grid (4, 0, 1)");
  double microseconds = 0;
  EXPECT_QPALRT_ERROR(
      qpalrtTimeLaunch(sum, &config, buffers, 2, 0, &microseconds),
      QPALRT_ERROR_INVALID_ARGUMENT, "iterations must be at least 1, got 0");

  // A buffer of another context cannot be passed.
  qpalrtContext *other = nullptr;
  ASSERT_QPALRT_OK(qpalrtCreateContext(QPALRT_DEVICE_CPU, 0, &other));
  qpalrtBuffer *foreign = nullptr;
  ASSERT_QPALRT_OK(qpalrtAlloc(other, 64, &foreign));
  qpalrtBuffer *mixed[2] = {buffers[0], foreign};
  EXPECT_QPALRT_ERROR(qpalrtLaunch(sum, &config, mixed, 2),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "buffer 1 belongs to another context");
  // Destroying a context frees what is still alive in it.
  ASSERT_QPALRT_OK(qpalrtDestroyContext(other));
}

/// The last error belongs to the thread and survives successful calls.
TEST_F(RuntimeCpu, LastErrorIsPerThread) {
  qpalrtFunction *function = nullptr;
  EXPECT_EQ(qpalrtGetFunction(module, "qpal_missing_a", &function),
            QPALRT_ERROR_NOT_FOUND);
  ASSERT_QPALRT_OK(qpalrtGetFunction(module, "qpal_test_sum1", &function));
  std::string otherThreadError;
  std::thread other([&] {
    qpalrtFunction *missing = nullptr;
    qpalrtGetFunction(module, "qpal_missing_b", &missing);
    otherThreadError = qpalrtGetLastError();
  });
  other.join();
  EXPECT_NE(otherThreadError.find("qpal_missing_b"), std::string::npos);
  EXPECT_NE(std::string(qpalrtGetLastError()).find("qpal_missing_a"),
            std::string::npos)
      << qpalrtGetLastError();
}

} // namespace
