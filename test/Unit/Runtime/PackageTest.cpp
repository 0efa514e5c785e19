//===- PackageTest.cpp - Packages and sessions, end to end ----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Writes packages of a fake model whose code is Inputs/FakeStep.c (built
// beside this binary), opens them with the runtime and checks what a session
// computes against FakeStep.c's formula, evaluated here: for every token
// count and chunking, across resets, and at the edges of the KV cache.
// PackageInvalidTest.cpp feeds the runtime broken packages.
//
//===----------------------------------------------------------------------===//

#include "PackageTestUtils.h"

#include <cmath>
#include <cstdlib>
#include <unistd.h>

using namespace qpalrt::test;

namespace {

/// A package of the fake model, written to a temporary file and opened.
class Package : public ::testing::Test {
protected:
  void SetUp() override {
    code = readFile(besideTestBinary("libqpalrt_test_fake_step.so"));
    ASSERT_FALSE(code.empty());
    path = ::testing::TempDir() + "qpalrt-package-test-" +
           std::to_string(getpid()) + ".qpal";
    writeFile(path, writePackage(fakeSections(code)));
    ASSERT_QPALRT_OK(qpalrtOpenPackage(path.c_str(), &package));
  }
  void TearDown() override {
    EXPECT_EQ(qpalrtClosePackage(package), QPALRT_SUCCESS);
    std::remove(path.c_str());
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

  std::string code, path;
  const std::string arena = fakeArena();
  qpalrtPackage *package = nullptr;
};

/// `count` token ids in [0, kVocab), different for each `seed`.
std::vector<int32_t> someTokens(size_t count, int seed) {
  std::vector<int32_t> tokens(count);
  for (size_t i = 0; i < count; ++i)
    tokens[i] = int32_t((i * 5 + size_t(seed) * 3 + 1) % kVocab);
  return tokens;
}

/// The manifest's model comes back through qpalrtGetModelInfo.
TEST_F(Package, ModelInfo) {
  qpalrtModelInfo info;
  ASSERT_QPALRT_OK(qpalrtGetModelInfo(package, &info));
  EXPECT_EQ(info.vocabSize, kVocab);
  EXPECT_EQ(info.hiddenSize, 8);
  EXPECT_EQ(info.layers, kLayers);
  EXPECT_EQ(info.heads, 2);
  EXPECT_EQ(info.kvHeads, 1);
  EXPECT_EQ(info.headDim, 3);
  EXPECT_EQ(info.contextLength, kContext);
  EXPECT_STREQ(info.name, "fake-llama");
  EXPECT_STREQ(info.target, "cpu");
  EXPECT_DOUBLE_EQ(info.bitsPerWeight, 4.25);
  EXPECT_EQ(info.packageBytes, readFile(path).size());
  EXPECT_EQ(info.weightBytes, uint64_t(kArenaBytes));
}

/// Sections are found by name, in place; a missing one is NOT_FOUND.
TEST_F(Package, Sections) {
  const void *data = nullptr;
  size_t bytes = 0;
  ASSERT_QPALRT_OK(qpalrtGetPackageSection(package, "manifest", &data, &bytes));
  EXPECT_EQ(std::string(static_cast<const char *>(data), bytes), kManifest);
  ASSERT_QPALRT_OK(qpalrtGetPackageSection(package, "weights", &data, &bytes));
  EXPECT_EQ(std::string(static_cast<const char *>(data), bytes), arena);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % QPALPKG_ALIGNMENT, 0u);
  ASSERT_QPALRT_OK(qpalrtGetPackageSection(package, "code.cpu", &data, &bytes));
  EXPECT_EQ(bytes, code.size());
  data = nullptr;
  EXPECT_QPALRT_ERROR(
      qpalrtGetPackageSection(package, "code.nvptx", &data, &bytes),
      QPALRT_ERROR_NOT_FOUND, "no section 'code.nvptx'");
  EXPECT_EQ(data, nullptr);

  // By index, in table order.
  size_t count = 0;
  ASSERT_QPALRT_OK(qpalrtGetPackageSectionCount(package, &count));
  ASSERT_EQ(count, 4u);
  const char *name = nullptr;
  ASSERT_QPALRT_OK(qpalrtGetPackageSectionAt(package, 1, &name, &data, &bytes));
  EXPECT_STREQ(name, "tokenizer");
  EXPECT_EQ(std::string(static_cast<const char *>(data), bytes),
            fakeTokenizer());
  EXPECT_QPALRT_ERROR(
      qpalrtGetPackageSectionAt(package, 4, &name, &data, &bytes),
      QPALRT_ERROR_INVALID_ARGUMENT, "section 4 out of range");
}

/// For 1, 3, 4 and 9 tokens (batch 1 only, batch 1 three times, batch 4
/// once, batch 4 twice and 1 once), every row of logits is the formula's
/// for its position, and the position advances by the count.
TEST_F(Package, RunMatchesFormula) {
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

/// Runs of the same 11 tokens split in different ways (one run; 4 + 4 + 3;
/// eleven single tokens; 2 + 9) give the same logits, and the last-only
/// logits of a run are its last row.
TEST_F(Package, ChunkingDoesNotMatter) {
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

/// A run calls the entry point of the largest batch (4) while at least 4
/// tokens remain and the batch-1 entry point for the rest, at the right
/// positions.
TEST_F(Package, ChunksOfTheLargestBatch) {
  std::string log = path + ".log";
  ASSERT_EQ(setenv("QPAL_FAKE_STEP_LOG", log.c_str(), 1), 0);
  qpalrtSession *session = createSession();
  std::vector<int32_t> tokens = someTokens(12, 1);
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data(), 9, nullptr, 0));
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, tokens.data() + 9, 3, nullptr, 1));
  unsetenv("QPAL_FAKE_STEP_LOG");
  EXPECT_EQ(readFile(log), "4 0\n4 4\n1 8\n1 9\n1 10\n1 11\n");
  std::remove(log.c_str());
}

/// After a reset the session starts again at position 0: a new sequence
/// sees none of the old one's cache.
TEST_F(Package, ResetStartsOver) {
  qpalrtSession *session = createSession();
  std::vector<int32_t> first = someTokens(9, 1), second = someTokens(6, 4);
  ASSERT_QPALRT_OK(qpalrtSessionRun(session, first.data(), 9, nullptr, 0));
  EXPECT_EQ(position(session), 9);
  ASSERT_QPALRT_OK(qpalrtSessionReset(session));
  EXPECT_EQ(position(session), 0);
  std::vector<float> logits(6 * kVocab);
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(session, second.data(), 6, logits.data(), 0));
  for (int64_t t = 0; t < 6; ++t)
    expectFakeLogits(
        &logits[size_t(t * kVocab)],
        std::vector<int32_t>(second.begin(), second.begin() + t + 1), arena);
}

/// Two sessions of one package keep separate caches.
TEST_F(Package, SessionsAreIndependent) {
  qpalrtSession *a = createSession(), *b = createSession(8);
  std::vector<int32_t> tokensA = someTokens(5, 1), tokensB = someTokens(5, 2);
  std::vector<float> logitsA(kVocab), logitsB(kVocab);
  for (size_t t = 0; t < 5; ++t) {
    ASSERT_QPALRT_OK(qpalrtSessionRun(a, &tokensA[t], 1, logitsA.data(), 1));
    ASSERT_QPALRT_OK(qpalrtSessionRun(b, &tokensB[t], 1, logitsB.data(), 1));
  }
  expectFakeLogits(logitsA.data(), tokensA, arena);
  expectFakeLogits(logitsB.data(), tokensB, arena);
  // Closing the package (TearDown) destroys both.
}

/// A session holds 1 to context_length positions; a run that would pass its
/// end, or a token outside the vocabulary, is refused before anything runs.
TEST_F(Package, SessionLimits) {
  qpalrtSession *session = nullptr;
  EXPECT_QPALRT_ERROR(qpalrtCreateSession(package, 0, &session),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "maxTokens 0 is outside [1, 32]");
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
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(session, tokens.data(), 3, nullptr, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "3 tokens at position 4 exceed the session's 6 "
                      "positions");
  EXPECT_EQ(position(session), 4);

  std::vector<float> logits(kVocab, 42.0f);
  int32_t bad[2] = {1, int32_t(kVocab)};
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(session, bad, 2, logits.data(), 0),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "token 1 is 16, outside the vocabulary [0, 16)");
  bad[0] = -1;
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(session, bad, 1, logits.data(), 0),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "token 0 is -1, outside the vocabulary [0, 16)");
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(session, tokens.data(), 0, nullptr, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT,
                      "count must be at least 1, got 0");
  EXPECT_EQ(position(session), 4);
  EXPECT_EQ(logits[0], 42.0f);

  // The last two positions still run, and the logits are right.
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(session, tokens.data() + 4, 2, logits.data(), 1));
  EXPECT_EQ(position(session), 6);
  expectFakeLogits(logits.data(),
                   std::vector<int32_t>(tokens.begin(), tokens.begin() + 6),
                   arena);
}

/// Null arguments are INVALID_ARGUMENT naming them; null handles to the
/// destructors are ignored.
TEST_F(Package, NullArguments) {
  qpalrtModelInfo info;
  qpalrtSession *session = nullptr;
  int64_t value;
  int32_t token = 1;
  EXPECT_QPALRT_ERROR(qpalrtOpenPackage(nullptr, &package),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'path' is null");
  EXPECT_QPALRT_ERROR(qpalrtOpenPackage(path.c_str(), nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'out' is null");
  EXPECT_QPALRT_ERROR(qpalrtGetModelInfo(nullptr, &info),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'package' is null");
  EXPECT_QPALRT_ERROR(qpalrtGetModelInfo(package, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'info' is null");
  EXPECT_QPALRT_ERROR(qpalrtCreateSession(nullptr, 4, &session),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'package' is null");
  EXPECT_QPALRT_ERROR(qpalrtCreateSession(package, 4, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'out' is null");
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(nullptr, &token, 1, nullptr, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'session' is null");
  EXPECT_QPALRT_ERROR(qpalrtSessionReset(nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'session' is null");
  EXPECT_QPALRT_ERROR(qpalrtSessionGetPosition(nullptr, &value),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'session' is null");
  session = createSession(4);
  EXPECT_QPALRT_ERROR(qpalrtSessionRun(session, nullptr, 1, nullptr, 0),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'tokens' is null");
  EXPECT_QPALRT_ERROR(qpalrtSessionGetPosition(session, nullptr),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'position' is null");
  EXPECT_QPALRT_ERROR(qpalrtSetThreads(nullptr, 1),
                      QPALRT_ERROR_INVALID_ARGUMENT, "'package' is null");
  EXPECT_EQ(qpalrtClosePackage(nullptr), QPALRT_SUCCESS);
  EXPECT_EQ(qpalrtDestroySession(nullptr), QPALRT_SUCCESS);
}

/// The thread count is recorded; a negative one is refused.
TEST_F(Package, Threads) {
  int threads = -1;
  ASSERT_QPALRT_OK(qpalrtGetThreads(package, &threads));
  EXPECT_EQ(threads, 0);
  ASSERT_QPALRT_OK(qpalrtSetThreads(package, 3));
  ASSERT_QPALRT_OK(qpalrtGetThreads(package, &threads));
  EXPECT_EQ(threads, 3);
  EXPECT_QPALRT_ERROR(qpalrtSetThreads(package, -2),
                      QPALRT_ERROR_INVALID_ARGUMENT, "-2 threads");
}

/// A second package open at the same time runs its own code: the code of
/// both is loaded from memory, and neither is taken for the other.
TEST_F(Package, TwoPackagesAtOnce) {
  std::string otherPath = path + ".other";
  std::string manifest = replaceOnce(kManifest, R"(,
                   {"symbol": "_mlir_ciface_qpal_step_b4", "batch": 4})",
                                     "");
  writeFile(otherPath,
            writePackage(fakeSections(
                readFile(besideTestBinary("libqpalrt_test_fake_step_b1.so")),
                manifest)));
  qpalrtPackage *other = nullptr;
  ASSERT_QPALRT_OK(qpalrtOpenPackage(otherPath.c_str(), &other));
  std::remove(otherPath.c_str());
  qpalrtSession *session = createSession(), *otherSession = nullptr;
  ASSERT_QPALRT_OK(qpalrtCreateSession(other, kContext, &otherSession));
  std::vector<int32_t> tokens = someTokens(5, 5);
  std::vector<float> logits(kVocab), otherLogits(kVocab);
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(session, tokens.data(), 5, logits.data(), 1));
  ASSERT_QPALRT_OK(
      qpalrtSessionRun(otherSession, tokens.data(), 5, otherLogits.data(), 1));
  expectFakeLogits(logits.data(), tokens, arena);
  expectFakeLogits(otherLogits.data(), tokens, arena, /*salt=*/1000);
  EXPECT_EQ(qpalrtClosePackage(other), QPALRT_SUCCESS);
}

} // namespace
