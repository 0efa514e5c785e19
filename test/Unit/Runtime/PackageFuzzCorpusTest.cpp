//===- PackageFuzzCorpusTest.cpp - Replays the package fuzzer's corpus ----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Runs every file of fuzz/corpus/package (the seeds, and the reproducers of
// past findings) through fuzz/PackageFuzzInput.h, the code
// qpal-package-fuzzer runs, with Inputs/FakeStep.c built beside this binary
// as the trusted "code.cpu", so that a regression fails an ordinary build's
// tests. A file may be rejected with an error; it must not crash. Also checks
// that the sealed seeds still open, and that the harness refuses packages
// that would load other code.
//
//===----------------------------------------------------------------------===//

#include "PackageFuzzInput.h"
#include "PackageTestUtils.h"

#include <algorithm>
#include <filesystem>

using namespace qpalrt::test;

namespace {

std::vector<std::string> listCorpus() {
  std::vector<std::string> files;
  for (const auto &entry :
       std::filesystem::directory_iterator(QPAL_PACKAGE_FUZZ_CORPUS_DIR))
    files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string trustedCode() {
  return readFile(besideTestBinary("libqpalrt_test_fake_step.so"));
}

TEST(PackageFuzzCorpus, Replay) {
  std::string code = trustedCode();
  ASSERT_FALSE(code.empty());
  std::vector<std::string> files = listCorpus();
  EXPECT_GE(files.size(), 8u);
  for (const std::string &path : files) {
    SCOPED_TRACE(path);
    std::string input = readFile(path);
    qpalrt::fuzz::runPackageInput(
        reinterpret_cast<const uint8_t *>(input.data()), input.size(), code);
  }
}

// The seeds of the sealed mode are valid packages of the fake model: if the
// input format or the fake model drifts, the fuzzer would start from errors.
TEST(PackageFuzzCorpus, SealedSeedsOpen) {
  std::string code = trustedCode();
  ASSERT_FALSE(code.empty());
  std::string path = ::testing::TempDir() + "qpalrt-fuzz-seed-" +
                     std::to_string(getpid()) + ".qpal";
  for (const char *name : {"seed-sealed-fake", "seed-sealed-parts",
                           "seed-sealed-payload", "seed-sealed-layout"}) {
    SCOPED_TRACE(name);
    std::string input =
        readFile(std::string(QPAL_PACKAGE_FUZZ_CORPUS_DIR) + "/" + name);
    ASSERT_FALSE(input.empty());
    ASSERT_EQ(input[0] & 1, 1);
    std::string image = qpalrt::fuzz::sealPackage(
        uint8_t(input[0]), std::string_view(input).substr(1), code);
    EXPECT_TRUE(qpalrt::fuzz::loadsOnlyTrustedCode(image, code));
    writeFile(path, image);
    qpalrtPackage *package = nullptr;
    ASSERT_QPALRT_OK(qpalrtOpenPackage(path.c_str(), &package));
    EXPECT_TRUE(qpalrt::fuzz::entryPointsAreFakeSteps(package->manifest));
    EXPECT_EQ(qpalrtClosePackage(package), QPALRT_SUCCESS);
  }
  std::remove(path.c_str());
}

// A shared object other than the trusted one in a section whose checksum
// matches, whatever the section's name, keeps the input from being opened;
// with a wrong checksum the loader refuses the section before dlopen.
TEST(PackageFuzzCorpus, OtherCodeIsNotOpened) {
  std::string code = trustedCode();
  std::string other =
      readFile(besideTestBinary("libqpalrt_test_fake_step_b1.so"));
  ASSERT_FALSE(code.empty());
  ASSERT_NE(code, other);
  EXPECT_TRUE(qpalrt::fuzz::loadsOnlyTrustedCode(
      writePackage(fakeSections(code)), code));
  EXPECT_FALSE(qpalrt::fuzz::loadsOnlyTrustedCode(
      writePackage(fakeSections(other)), code));
  std::vector<SectionBytes> sections = fakeSections(code);
  sections.push_back({"notes", other});
  EXPECT_FALSE(
      qpalrt::fuzz::loadsOnlyTrustedCode(writePackage(sections), code));

  std::string image = writePackage(fakeSections(other));
  qpalpkgSection entry = getEntry(image, 2);
  ASSERT_STREQ(entry.name, "code.cpu");
  entry.checksum ^= 1;
  setEntry(image, 2, entry);
  EXPECT_TRUE(qpalrt::fuzz::loadsOnlyTrustedCode(image, code));
}

} // namespace
