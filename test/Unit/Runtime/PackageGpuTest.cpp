//===- PackageGpuTest.cpp - nvptx packages on the stand-in driver ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Packages of the fake model whose code is Inputs/FakeGpuStep.c: host code
// that reaches the GPU only through the mgpu* functions the runtime provides
// (GpuAbi.cpp), as the compiler's nvptx code does. Its kernels exist only in
// the stand-in driver (Inputs/FakeCudaDriver.cpp), so these tests run in
// RuntimeFakeCudaTests and skip elsewhere, except the one that needs no
// device. They check the logits against FakeStep.c's formula and against the
// CPU package's, the device addresses the code gets, the mgpu* functions'
// caches and error reports, and that closing a package leaves nothing
// behind on the device.
//
//===----------------------------------------------------------------------===//

#include "PackageTestUtils.h"

#include "GpuAbi.h"

#include <cstdlib>
#include <dlfcn.h>
#include <unistd.h>

using namespace qpalrt::test;

extern "C" {
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuModuleUnload(void *module);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
}

namespace {

/// The fake model's manifest for the nvptx target and `chip`.
std::string nvptxManifest(const std::string &chip = "sm_90") {
  return replaceOnce(
      replaceOnce(kManifest, R"("target": "cpu")", R"("target": "nvptx")"),
      R"("chip": "x86-64 test")", R"("chip": ")" + chip + "\"");
}

/// The sections of an nvptx package of the fake model with `code`.
std::vector<SectionBytes> nvptxSections(const std::string &code,
                                        const std::string &manifest) {
  return {{"manifest", manifest},
          {"tokenizer", fakeTokenizer()},
          {"code.nvptx", code},
          {"weights", fakeArena()}};
}

/// The code of FakeGpuStep.c, or of a variant ("_bad_ptx", ...).
std::string gpuCode(const std::string &variant = "") {
  return readFile(besideTestBinary(
      ("libqpalrt_test_fake_gpu_step" + variant + ".so").c_str()));
}

/// `count` token ids in [0, kVocab), different for each `seed`.
std::vector<int32_t> someTokens(size_t count, int seed) {
  std::vector<int32_t> tokens(count);
  for (size_t i = 0; i < count; ++i)
    tokens[i] = int32_t((i * 5 + size_t(seed) * 3 + 1) % kVocab);
  return tokens;
}

/// What the stand-in driver holds (qpal_fake_cuda_stats).
struct FakeCudaStats {
  long long modules = -1, allocations = -1, allocCalls = -1, lookups = -1;
};

/// The stand-in driver's counters, read from the library the runtime opened.
FakeCudaStats fakeCudaStats() {
  FakeCudaStats stats;
  int count = 0;
  qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &count); // loads the driver
  const char *path = std::getenv("QPALRT_CUDA_DRIVER");
  void *driver = path ? dlopen(path, RTLD_NOW | RTLD_NOLOAD) : nullptr;
  if (!driver) {
    ADD_FAILURE() << "the stand-in driver is not loaded";
    return stats;
  }
  using StatsFn = void (*)(long long *, long long *, long long *, long long *);
  auto read = reinterpret_cast<StatsFn>(dlsym(driver, "qpal_fake_cuda_stats"));
  if (read)
    read(&stats.modules, &stats.allocations, &stats.allocCalls, &stats.lookups);
  dlclose(driver);
  return stats;
}

/// Whether the CUDA driver is the stand-in that runs FakeGpuStep.c's
/// kernels.
bool usingFakeDriver() {
  const char *driver = std::getenv("QPALRT_CUDA_DRIVER");
  return driver && std::string(driver).find("libqpalrt_fake_cuda.so") !=
                       std::string::npos;
}

/// A temporary package file, removed at the end of the test.
class TempPackage {
public:
  TempPackage(const std::string &name,
              const std::vector<SectionBytes> &sections)
      : path(::testing::TempDir() + "qpalrt-gpu-" + name + "-" +
             std::to_string(getpid()) + ".qpal") {
    writeFile(path, writePackage(sections));
  }
  ~TempPackage() { std::remove(path.c_str()); }
  const std::string path;
};

/// Without a CUDA device, opening an nvptx package says so in one line,
/// with the reason (RuntimeTests on a machine without a GPU).
TEST(PackageGpuNoDevice, SaysWhy) {
  int count = 0;
  if (qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &count) == QPALRT_SUCCESS)
    GTEST_SKIP() << "a CUDA device is present";
  std::string reason = qpalrtGetLastError();
  TempPackage file("no-device",
                   nvptxSections(gpuCode(), nvptxManifest("sm_86")));
  qpalrtPackage *package = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtOpenPackage(file.path.c_str(), &package),
                      QPALRT_ERROR_NO_DEVICE,
                      file.path +
                          ": the package targets nvptx (sm_86) but no CUDA "
                          "device is available: " +
                          reason);
  EXPECT_EQ(std::string(qpalrtGetLastError()).find('\n'), std::string::npos);
  EXPECT_EQ(package, nullptr);
}

/// Where it cannot run, an nvptx package can still be inspected: the
/// manifest, the model and the sections, checked as for a run; a session
/// on it is refused.
TEST(PackageGpuNoDevice, Inspect) {
  TempPackage file("inspect", nvptxSections(gpuCode(), nvptxManifest("sm_86")));
  qpalrtPackage *package = nullptr;
  ASSERT_QPALRT_OK(qpalrtInspectPackage(file.path.c_str(), &package));
  qpalrtModelInfo info;
  ASSERT_QPALRT_OK(qpalrtGetModelInfo(package, &info));
  EXPECT_STREQ(info.target, "nvptx");
  const void *data = nullptr;
  size_t bytes = 0;
  ASSERT_QPALRT_OK(
      qpalrtGetPackageSection(package, "code.nvptx", &data, &bytes));
  EXPECT_EQ(bytes, gpuCode().size());
  qpalrtSession *session = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtCreateSession(package, 8, &session),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "qpalrtCreateSession: '" + file.path +
                          "' was opened by qpalrtInspectPackage, without its "
                          "code");
  EXPECT_EQ(session, nullptr);
  EXPECT_EQ(qpalrtClosePackage(package), QPALRT_SUCCESS);
  // A damaged package is refused as by qpalrtOpenPackage.
  std::string bytesOnDisk =
      writePackage(nvptxSections(gpuCode(), nvptxManifest("sm_86")));
  bytesOnDisk[bytesOnDisk.size() - 1] ^= 1;
  writeFile(file.path, bytesOnDisk);
  package = nullptr;
  EXPECT_EQ(qpalrtInspectPackage(file.path.c_str(), &package),
            QPALRT_ERROR_FORMAT)
      << qpalrtGetLastError();
  EXPECT_EQ(package, nullptr);
}

/// An nvptx package of the fake model, opened on the stand-in driver.
class PackageGpu : public ::testing::Test {
protected:
  void SetUp() override {
    if (!usingFakeDriver())
      GTEST_SKIP() << "FakeGpuStep.c's kernels run on the stand-in driver";
    before = fakeCudaStats();
    file = std::make_unique<TempPackage>(
        "test", nvptxSections(gpuCode(), nvptxManifest()));
    ASSERT_QPALRT_OK(qpalrtOpenPackage(file->path.c_str(), &package));
  }
  void TearDown() override {
    if (!usingFakeDriver())
      return;
    EXPECT_EQ(qpalrtClosePackage(package), QPALRT_SUCCESS)
        << qpalrtGetLastError();
    // The code's destructor unloaded its module, and the weights, the
    // sessions' buffers and the cached scratch are freed.
    FakeCudaStats after = fakeCudaStats();
    EXPECT_EQ(after.modules, before.modules);
    EXPECT_EQ(after.allocations, before.allocations);
    unsetenv("QPAL_FAKE_GPU_STEP_FAULT");
  }

  /// A new session of `maxTokens` positions.
  qpalrtSession *createSession(int64_t maxTokens = kContext) {
    qpalrtSession *session = nullptr;
    EXPECT_EQ(qpalrtCreateSession(package, maxTokens, &session), QPALRT_SUCCESS)
        << qpalrtGetLastError();
    return session;
  }

  /// The session's position.
  static int64_t position(const qpalrtSession *session) {
    int64_t value = -1;
    EXPECT_EQ(qpalrtSessionGetPosition(session, &value), QPALRT_SUCCESS);
    return value;
  }

  /// Expects opening `sections` to fail with `status` and `text`, leaving
  /// nothing loaded or allocated on the device.
  void expectOpenFails(const char *name,
                       const std::vector<SectionBytes> &sections,
                       qpalrtStatus status, const std::string &text) {
    FakeCudaStats start = fakeCudaStats();
    TempPackage bad(name, sections);
    qpalrtPackage *opened = nullptr;
    EXPECT_QPALRT_ERROR(qpalrtOpenPackage(bad.path.c_str(), &opened), status,
                        bad.path + ": " + text);
    EXPECT_EQ(std::string(qpalrtGetLastError()).find('\n'), std::string::npos)
        << "one line: " << qpalrtGetLastError();
    EXPECT_EQ(opened, nullptr);
    FakeCudaStats end = fakeCudaStats();
    EXPECT_EQ(end.modules, start.modules);
    EXPECT_EQ(end.allocations, start.allocations);
  }

  FakeCudaStats before;
  std::unique_ptr<TempPackage> file;
  const std::string arena = fakeArena();
  qpalrtPackage *package = nullptr;
};

/// The model and the code section of an nvptx package.
TEST_F(PackageGpu, ModelInfo) {
  qpalrtModelInfo info;
  ASSERT_QPALRT_OK(qpalrtGetModelInfo(package, &info));
  EXPECT_STREQ(info.target, "nvptx");
  EXPECT_EQ(info.vocabSize, kVocab);
  EXPECT_EQ(info.weightBytes, uint64_t(kArenaBytes));
  const void *data = nullptr;
  size_t bytes = 0;
  ASSERT_QPALRT_OK(
      qpalrtGetPackageSection(package, "code.nvptx", &data, &bytes));
  EXPECT_EQ(bytes, gpuCode().size());
  // Opening loaded the code's module: its constructor ran in the package's
  // context.
  EXPECT_EQ(fakeCudaStats().modules, before.modules + 1);
}

/// For 1, 3, 4 and 9 tokens every row of logits is the formula's for its
/// position, computed by the kernels from device memory only (the stand-in
/// fails any launch given a host address).
TEST_F(PackageGpu, RunMatchesFormula) {
  for (int64_t count : {1, 3, 4, 9}) {
    SCOPED_TRACE("count " + std::to_string(count));
    qpalrtSession *session = createSession();
    std::vector<int32_t> tokens = someTokens(size_t(count), int(count));
    std::vector<float> logits(size_t(count * kVocab), -1.0f);
    ASSERT_QPALRT_OK(
        qpalrtSessionRun(session, tokens.data(), count, logits.data(), 0));
    EXPECT_EQ(position(session), count);
    for (int64_t t = 0; t < count; ++t)
      expectFakeLogits(
          &logits[size_t(t * kVocab)],
          std::vector<int32_t>(tokens.begin(), tokens.begin() + t + 1), arena);
    ASSERT_QPALRT_OK(qpalrtDestroySession(session));
  }
}

/// The nvptx package gives exactly the CPU package's logits, for a prefill
/// in chunks and a decode of single tokens.
TEST_F(PackageGpu, EqualsCpuPackage) {
  TempPackage cpuFile(
      "cpu",
      fakeSections(readFile(besideTestBinary("libqpalrt_test_fake_step.so"))));
  qpalrtPackage *cpu = nullptr;
  ASSERT_QPALRT_OK(qpalrtOpenPackage(cpuFile.path.c_str(), &cpu));
  qpalrtSession *cpuSession = nullptr;
  ASSERT_QPALRT_OK(qpalrtCreateSession(cpu, kContext, &cpuSession));
  qpalrtSession *session = createSession();
  std::vector<int32_t> tokens = someTokens(16, 3);
  // A prefill of 10 (4 + 4 + 1 + 1), then six decode steps.
  std::vector<float> expected(10 * kVocab), actual(10 * kVocab, -1.0f);
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(cpuSession, tokens.data(), 10, expected.data(), 0));
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(session, tokens.data(), 10, actual.data(), 0));
  EXPECT_EQ(actual, expected);
  for (size_t t = 10; t < tokens.size(); ++t) {
    std::vector<float> cpuRow(kVocab), gpuRow(kVocab, -1.0f);
    ASSERT_QPALRT_OK(
        qpalrtSessionRun(cpuSession, &tokens[t], 1, cpuRow.data(), 1));
    ASSERT_QPALRT_OK(
        qpalrtSessionRun(session, &tokens[t], 1, gpuRow.data(), 1));
    EXPECT_EQ(gpuRow, cpuRow) << "position " << t;
  }
  ASSERT_QPALRT_OK(qpalrtClosePackage(cpu));
}

/// Runs of the same 11 tokens split in different ways give the same logits,
/// and the last-only logits of a run are its last row.
TEST_F(PackageGpu, ChunkingAndLastOnly) {
  std::vector<int32_t> tokens = someTokens(11, 2);
  for (const std::vector<int64_t> &splits :
       {std::vector<int64_t>{11}, std::vector<int64_t>{4, 4, 3},
        std::vector<int64_t>(11, 1), std::vector<int64_t>{2, 9}}) {
    qpalrtSession *session = createSession();
    int64_t done = 0;
    for (int64_t count : splits) {
      SCOPED_TRACE("a run of " + std::to_string(count) + " at " +
                   std::to_string(done));
      std::vector<float> all(size_t(count * kVocab)), last(kVocab);
      ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data() + done, count,
                                        all.data(), 0));
      ASSERT_QPALRT_OK(qpalrtSessionReset(session));
      if (done > 0)
        ASSERT_QPALRT_OK(
            qpalrtSessionRun(session, tokens.data(), done, nullptr, 0));
      ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data() + done, count,
                                        last.data(), 1));
      done += count;
      EXPECT_EQ(position(session), done);
      for (int64_t t = 0; t < count; ++t)
        expectFakeLogits(
            &all[size_t(t * kVocab)],
            std::vector<int32_t>(tokens.begin(),
                                 tokens.begin() + done - count + t + 1),
            arena);
      for (int64_t v = 0; v < kVocab; ++v)
        EXPECT_EQ(last[size_t(v)], all[size_t((count - 1) * kVocab + v)]);
    }
    ASSERT_QPALRT_OK(qpalrtDestroySession(session));
  }
}

/// A run calls the entry point of the largest batch while at least 4 tokens
/// remain and the batch-1 entry point for the rest, at the right positions.
TEST_F(PackageGpu, ChunksOfTheLargestBatch) {
  std::string log = file->path + ".log";
  ASSERT_EQ(setenv("QPAL_FAKE_STEP_LOG", log.c_str(), 1), 0);
  qpalrtSession *session = createSession();
  std::vector<int32_t> tokens = someTokens(12, 1);
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data(), 9, nullptr, 0));
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data() + 9, 3, nullptr, 1));
  unsetenv("QPAL_FAKE_STEP_LOG");
  EXPECT_EQ(readFile(log), "4 0\n4 4\n1 8\n1 9\n1 10\n1 11\n");
  std::remove(log.c_str());
}

/// After a reset the session starts again at position 0; two sessions keep
/// separate caches in device memory.
TEST_F(PackageGpu, ResetAndIndependentSessions) {
  qpalrtSession *a = createSession(), *b = createSession(8);
  std::vector<int32_t> first = someTokens(9, 1), second = someTokens(6, 4);
  ASSERT_QPALRT_OK(qpalrtSessionRun(a, first.data(), 9, nullptr, 0));
  ASSERT_QPALRT_OK(qpalrtSessionReset(a));
  EXPECT_EQ(position(a), 0);
  std::vector<float> logitsA(kVocab), logitsB(kVocab);
  for (size_t t = 0; t < 6; ++t) {
    ASSERT_QPALRT_OK(qpalrtSessionRun(a, &second[t], 1, logitsA.data(), 1));
    ASSERT_QPALRT_OK(qpalrtSessionRun(b, &first[t], 1, logitsB.data(), 1));
  }
  expectFakeLogits(logitsA.data(), second, arena);
  expectFakeLogits(logitsB.data(),
                   std::vector<int32_t>(first.begin(), first.begin() + 6),
                   arena);
}

/// The KV cache holds at most the model's context, and a run stops at the
/// session's end before anything runs, as on the CPU.
TEST_F(PackageGpu, SessionLimits) {
  qpalrtSession *session = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtCreateSession(package, kContext + 1, &session),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "maxTokens 33 is outside [1, 32]");
  EXPECT_EQ(session, nullptr);
  session = createSession(6);
  std::vector<int32_t> tokens = someTokens(7, 3);
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(session, tokens.data(), 7, nullptr, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "7 tokens at position 0 exceed the session's 6 "
                      "positions");
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data(), 4, nullptr, 0));
  int32_t bad = int32_t(kVocab);
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(session, &bad, 1, nullptr, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "token 0 is 16, outside the vocabulary [0, 16)");
  std::vector<float> logits(kVocab);
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(session, tokens.data() + 4, 2, logits.data(), 1));
  EXPECT_EQ(position(session), 6);
  expectFakeLogits(logits.data(),
                   std::vector<int32_t>(tokens.begin(), tokens.begin() + 6),
                   arena);
}

/// The code's per-step scratch comes from the mgpu* functions' cache and its
/// kernels from their lookup cache: after the first step, steps allocate no
/// device memory and look nothing up in the driver.
TEST_F(PackageGpu, StepsReuseScratchAndKernels) {
  qpalrtSession *session = createSession();
  std::vector<int32_t> tokens = someTokens(12, 7);
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data(), 5, nullptr, 0));
  FakeCudaStats warm = fakeCudaStats();
  for (size_t t = 5; t < 9; ++t)
    ASSERT_QPALRT_OK(qpalrtSessionRun(session, &tokens[t], 1, nullptr, 1));
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, &tokens[8], 4, nullptr, 1));
  FakeCudaStats after = fakeCudaStats();
  EXPECT_EQ(after.allocCalls, warm.allocCalls);
  EXPECT_EQ(after.lookups, warm.lookups);
  EXPECT_EQ(after.allocations, warm.allocations);
}

/// A launch that fails inside a step fails the run with the mgpu* call, the
/// driver's error and the step; the position stays where the run started,
/// and the next run works and leaks nothing.
TEST_F(PackageGpu, LaunchFailureInAStep) {
  qpalrtSession *session = createSession();
  std::vector<int32_t> tokens = someTokens(13, 5);
  // Both entry points once, so that their scratch is cached.
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data(), 5, nullptr, 0));
  FakeCudaStats start = fakeCudaStats();
  ASSERT_EQ(setenv("QPAL_FAKE_GPU_STEP_FAULT", "10", 1), 0);
  EXPECT_QPALRT_ERROR(
      qpalrtSessionRun(session, tokens.data() + 5, 8, nullptr, 0),
      QPALRT_ERROR_DRIVER,
      "qpalrtSessionRun: '_mlir_ciface_qpal_step_b4' (batch 4) at position 9 "
      "failed: mgpuLaunchKernel: cuLaunchKernel failed for "
      "'qpal_fake_step_rows': CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory "
      "access was encountered)");
  EXPECT_EQ(position(session), 5);
  // The failed step's scratch went back to the cache.
  EXPECT_EQ(fakeCudaStats().allocations, start.allocations);
  unsetenv("QPAL_FAKE_GPU_STEP_FAULT");
  std::vector<float> logits(kVocab);
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(session, tokens.data() + 5, 8, logits.data(), 1));
  expectFakeLogits(logits.data(), tokens, arena);
}

/// Two nvptx packages open at once run their own code and device memory;
/// closing one leaves the other working.
TEST_F(PackageGpu, TwoPackagesAtOnce) {
  TempPackage otherFile("other", nvptxSections(gpuCode(), nvptxManifest()));
  qpalrtPackage *other = nullptr;
  ASSERT_QPALRT_OK(qpalrtOpenPackage(otherFile.path.c_str(), &other));
  EXPECT_EQ(fakeCudaStats().modules, before.modules + 2);
  qpalrtSession *session = createSession(), *otherSession = nullptr;
  ASSERT_QPALRT_OK(qpalrtCreateSession(other, kContext, &otherSession));
  std::vector<int32_t> tokens = someTokens(5, 5),
                       otherTokens = someTokens(6, 1);
  std::vector<float> logits(kVocab), otherLogits(kVocab);
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(session, tokens.data(), 5, logits.data(), 1));
  ASSERT_QPALRT_OK(qpalrtSessionRun(otherSession, otherTokens.data(), 6,
                                    otherLogits.data(), 1));
  expectFakeLogits(logits.data(), tokens, arena);
  expectFakeLogits(otherLogits.data(), otherTokens, arena);
  ASSERT_QPALRT_OK(qpalrtClosePackage(other));
  EXPECT_EQ(fakeCudaStats().modules, before.modules + 1);
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data(), 1, nullptr, 0));
}

/// Closing a package runs the code's destructor, which unloads its kernels
/// through the package's mgpu* state.
TEST_F(PackageGpu, CloseRunsTheDestructor) {
  std::string log = file->path + ".unload.log";
  TempPackage otherFile("unload", nvptxSections(gpuCode(), nvptxManifest()));
  qpalrtPackage *other = nullptr;
  ASSERT_QPALRT_OK(qpalrtOpenPackage(otherFile.path.c_str(), &other));
  ASSERT_EQ(setenv("QPAL_FAKE_STEP_LOG", log.c_str(), 1), 0);
  ASSERT_QPALRT_OK(qpalrtClosePackage(other));
  unsetenv("QPAL_FAKE_STEP_LOG");
  EXPECT_EQ(readFile(log), "unloaded\n");
  EXPECT_EQ(fakeCudaStats().modules, before.modules + 1);
  std::remove(log.c_str());
}

/// PTX the driver rejects fails the open, naming the section, the mgpu*
/// call, the driver's error and the JIT's log, on one line.
TEST_F(PackageGpu, BadPtx) {
  expectOpenFails("bad-ptx",
                  nvptxSections(gpuCode("_bad_ptx"), nvptxManifest()),
                  QPALRT_ERROR_FORMAT,
                  "section 'code.nvptx' failed to load its kernels: "
                  "mgpuModuleLoadJIT: cuModuleLoadDataEx failed: "
                  "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed): "
                  "ptxas application ptx input, line 4; error   : Not a name "
                  "of any known instruction: 'bogus'");
  expectOpenFails(
      "ptx-version", nvptxSections(gpuCode("_ptx_version"), nvptxManifest()),
      QPALRT_ERROR_FORMAT,
      "section 'code.nvptx' failed to load its kernels: mgpuModuleLoadJIT: "
      "cuModuleLoadDataEx failed: CUDA_ERROR_UNSUPPORTED_PTX_VERSION");
}

/// Code that calls an mgpu* function the runtime does not provide fails to
/// load with the loader's message.
TEST_F(PackageGpu, UndefinedGpuFunction) {
  expectOpenFails(
      "undefined", nvptxSections(gpuCode("_undefined"), nvptxManifest()),
      QPALRT_ERROR_FORMAT,
      "section 'code.nvptx': cannot load '<memory>' as a shared object: ");
  EXPECT_NE(std::string(qpalrtGetLastError())
                .find("undefined symbol: mgpuNoSuchFunction"),
            std::string::npos)
      << qpalrtGetLastError();
}

/// A device older than the package's chip is refused by name; one at least
/// as new runs it.
TEST_F(PackageGpu, ComputeCapability) {
  ASSERT_EQ(setenv("QPAL_FAKE_CUDA_SM", "86", 1), 0);
  expectOpenFails("sm90-on-sm86", nvptxSections(gpuCode(), nvptxManifest()),
                  QPALRT_ERROR_UNSUPPORTED,
                  "the package's code is for sm_90, but CUDA device 0 (qpal "
                  "fake GPU) is sm_86");
  TempPackage sm80("sm80", nvptxSections(gpuCode(), nvptxManifest("sm_80")));
  qpalrtPackage *older = nullptr;
  EXPECT_EQ(qpalrtOpenPackage(sm80.path.c_str(), &older), QPALRT_SUCCESS)
      << qpalrtGetLastError();
  unsetenv("QPAL_FAKE_CUDA_SM");
  EXPECT_EQ(qpalrtClosePackage(older), QPALRT_SUCCESS);
}

/// The mgpu* functions on their own: outside a package's scope they do
/// nothing; inside, freed blocks serve the next allocation of their size,
/// the copies and fills work on device memory, and the first failure is
/// kept while later calls do nothing, until the next scope.
TEST(GpuAbi, CallsAndFailures) {
  if (!usingFakeDriver())
    GTEST_SKIP() << "uses the stand-in driver";
  EXPECT_EQ(mgpuMemAlloc(64, nullptr, false), nullptr);
  qpalrtContext *context = nullptr;
  ASSERT_QPALRT_OK(qpalrtCreateContext(QPALRT_DEVICE_CUDA, 0, &context));
  std::unique_ptr<qpalrt::GpuAbiState> state;
  ASSERT_QPALRT_OK(qpalrt::createGpuAbiState(*context, state));
  {
    qpalrt::GpuAbiScope scope(*state);
    void *a = mgpuMemAlloc(64, nullptr, false);
    void *b = mgpuMemAlloc(32, nullptr, false);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 256, 0u);
    mgpuMemset32(a, 0x01020304u, 16, nullptr);
    mgpuMemset16(b, 0xabcd, 16, nullptr);
    mgpuMemcpy(static_cast<char *>(a) + 32, b, 32, nullptr);
    EXPECT_EQ(scope.status(), QPALRT_SUCCESS) << scope.message();
    // "Device" memory is host memory on the stand-in.
    const auto *words = static_cast<const uint32_t *>(a);
    EXPECT_EQ(words[0], 0x01020304u);
    EXPECT_EQ(words[7], 0x01020304u);
    EXPECT_EQ(words[8], 0xabcdabcdu);
    EXPECT_EQ(words[15], 0xabcdabcdu);
    mgpuMemFree(a, nullptr);
    EXPECT_EQ(state->freeBlocks.size(), 1u);
    EXPECT_EQ(mgpuMemAlloc(64, nullptr, false), a)
        << "a freed block of 64 bytes serves the next 64";
    EXPECT_EQ(state->freeBlocks.size(), 0u);

    // A host-shared allocation is refused; after it, calls do nothing.
    EXPECT_EQ(mgpuMemAlloc(16, nullptr, true), nullptr);
    EXPECT_EQ(scope.status(), QPALRT_ERROR_UNSUPPORTED);
    EXPECT_EQ(scope.message(), "mgpuMemAlloc: host-shared memory (16 bytes) "
                               "is not supported by the qpal runtime");
    EXPECT_EQ(mgpuMemAlloc(16, nullptr, false), nullptr);
    mgpuMemFree(reinterpret_cast<void *>(uintptr_t(64)), nullptr);
    EXPECT_EQ(scope.message(), "mgpuMemAlloc: host-shared memory (16 bytes) "
                               "is not supported by the qpal runtime");
  }
  {
    // A new scope starts without the failure.
    qpalrt::GpuAbiScope scope(*state);
    EXPECT_EQ(scope.status(), QPALRT_SUCCESS);
    mgpuMemFree(reinterpret_cast<void *>(uintptr_t(64)), nullptr);
    EXPECT_EQ(scope.status(), QPALRT_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(scope.message().find("mgpuMemFree: 0x40 was not allocated by "
                                   "mgpuMemAlloc"),
              std::string::npos)
        << scope.message();
  }
  {
    // A kernel launched with the wrong number of parameters is refused
    // before the driver runs it; lookups are cached.
    qpalrt::GpuAbiScope scope(*state);
    char ptx[] = ".version 7.0\n.target sm_80\n.address_size 64\n"
                 ".visible .entry two(.param .u64 a, .param .u32 b)\n"
                 "{\n  ret;\n}\n";
    void *module = mgpuModuleLoadJIT(ptx, 3);
    ASSERT_NE(module, nullptr) << scope.message();
    void *two = mgpuModuleGetFunction(module, "two");
    EXPECT_EQ(mgpuModuleGetFunction(module, "two"), two);
    uint64_t a = 0;
    void *params[] = {&a};
    mgpuLaunchKernel(two, 1, 1, 1, 256, 1, 1, 0, nullptr, params, nullptr, 1);
    EXPECT_EQ(scope.message(), "mgpuLaunchKernel: kernel 'two' takes 2 "
                               "parameters, launched with 1");
    mgpuModuleUnload(module);
    EXPECT_EQ(state->modules.size(), 0u);
  }
  {
    qpalrt::GpuAbiScope scope(*state);
    EXPECT_EQ(mgpuModuleGetFunction(nullptr, "two"), nullptr);
    EXPECT_EQ(scope.message(),
              "mgpuModuleGetFunction: 'two' looked up in no module");
  }
  FakeCudaStats held = fakeCudaStats();
  ASSERT_QPALRT_OK(qpalrt::releaseGpuAbiState(*state));
  EXPECT_EQ(fakeCudaStats().allocations, held.allocations - 2);
  ASSERT_QPALRT_OK(qpalrtDestroyContext(context));
}

} // namespace
