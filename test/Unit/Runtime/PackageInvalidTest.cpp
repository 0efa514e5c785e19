//===- PackageInvalidTest.cpp - Broken and hostile packages ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Every way a package can be damaged or malformed is refused when it is
// opened, with a status and a one-line message that names the problem, and
// never a crash: every truncation, a flipped byte anywhere, a bad header or
// section table, sections out of place, missing sections and entry points,
// and manifests that are not what the runtime needs.
//
//===----------------------------------------------------------------------===//

#include "PackageTestUtils.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace qpalrt::test;

namespace {

class PackageInvalid : public ::testing::Test {
protected:
  void SetUp() override {
    code = readFile(besideTestBinary("libqpalrt_test_fake_step.so"));
    ASSERT_FALSE(code.empty());
    path = ::testing::TempDir() + "qpalrt-package-invalid-" +
           std::to_string(getpid()) + ".qpal";
    valid = writePackage(fakeSections(code));
  }
  void TearDown() override { std::remove(path.c_str()); }

  /// Opens `image` (written to a file) and returns the status; a package
  /// that opens is closed again. Expects the error message to be one line
  /// that starts with the path.
  qpalrtStatus open(const std::string &image) {
    writeFile(path, image);
    return openPath();
  }
  qpalrtStatus openPath() {
    qpalrtPackage *package = nullptr;
    qpalrtStatus status = qpalrtOpenPackage(path.c_str(), &package);
    if (status == QPALRT_SUCCESS) {
      EXPECT_NE(package, nullptr);
      qpalrtClosePackage(package);
      return status;
    }
    EXPECT_EQ(package, nullptr);
    std::string message = qpalrtGetLastError();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return status;
  }

  /// Opens the package with `manifest`.
  qpalrtStatus openManifest(const std::string &manifest) {
    return open(writePackage(fakeSections(code, manifest)));
  }

  std::string code, path, valid;
};

TEST_F(PackageInvalid, ValidOneOpens) {
  EXPECT_EQ(open(valid), QPALRT_SUCCESS) << qpalrtGetLastError();
}

/// Files that are not packages at all.
TEST_F(PackageInvalid, NotPackages) {
  qpalrtPackage *package = nullptr;
  std::string missing = path + ".missing";
  EXPECT_QPALRT_ERROR(qpalrtOpenPackage(missing.c_str(), &package),
                      QPALRT_ERROR_IO, "cannot open: No such file");
  EXPECT_QPALRT_ERROR(qpalrtOpenPackage(::testing::TempDir().c_str(), &package),
                      QPALRT_ERROR_IO, "not a regular file");
  EXPECT_QPALRT_ERROR(open(""), QPALRT_ERROR_FORMAT,
                      "0 bytes, fewer than the 64-byte header");
  EXPECT_QPALRT_ERROR(open(std::string(100, 'x')), QPALRT_ERROR_FORMAT,
                      "not a qpal package: the file does not start with");
  std::string wrongMagic = valid;
  wrongMagic[6] = 'Q'; // "QPALPKQ"
  reseal(wrongMagic);
  EXPECT_QPALRT_ERROR(open(wrongMagic), QPALRT_ERROR_FORMAT,
                      "not a qpal package");
  EXPECT_EQ(package, nullptr);
}

/// Every truncation of a package is refused: shorter than a header, or
/// shorter than the header says.
TEST_F(PackageInvalid, EveryTruncation) {
  writeFile(path, valid);
  for (size_t length = valid.size(); length-- > 0;) {
    ASSERT_EQ(truncate(path.c_str(), off_t(length)), 0);
    std::string expected =
        length < sizeof(qpalpkgHeader)
            ? std::to_string(length) + " bytes, fewer than the 64-byte header"
            : "truncated: header says " + std::to_string(valid.size()) +
                  " bytes, file has " + std::to_string(length);
    ASSERT_EQ(openPath(), QPALRT_ERROR_FORMAT) << "length " << length;
    ASSERT_NE(std::string(qpalrtGetLastError()).find(expected),
              std::string::npos)
        << "length " << length << ": " << qpalrtGetLastError();
  }
  std::string longer = valid + std::string(64, '\0');
  EXPECT_QPALRT_ERROR(open(longer), QPALRT_ERROR_FORMAT,
                      "trailing bytes: header says");
}

/// A flipped bit anywhere in the file is found. In a section, the message
/// names the section; in the header and the table, their checksums (or an
/// earlier check of the same bytes) catch it; in padding, the zero check.
TEST_F(PackageInvalid, EveryFlippedByteIsFound) {
  qpalpkgHeader header = getHeader(valid);
  std::vector<std::pair<uint64_t, std::string>> owners(valid.size());
  for (uint32_t i = 0; i < header.sectionCount; ++i) {
    qpalpkgSection entry = getEntry(valid, i);
    for (uint64_t at = entry.offset; at < entry.offset + entry.bytes; ++at)
      owners[at] = {i + 1, std::string("section '") + entry.name +
                               "': checksum mismatch"};
  }
  // Every byte of the small sections and the header and table; a sample of
  // the shared object's.
  for (size_t at = 0; at < valid.size(); ++at) {
    if (owners[at].second.find("code.cpu") != std::string::npos && at % 97)
      continue;
    std::string flipped = valid;
    flipped[at] ^= 0x10;
    qpalrtStatus status = open(flipped);
    ASSERT_NE(status, QPALRT_SUCCESS) << "byte " << at;
    std::string message = qpalrtGetLastError();
    std::string expected;
    if (at < sizeof(qpalpkgHeader))
      expected = ""; // magic, version, size or checksum: all refuse
    else if (at < header.sectionTableOffset +
                      header.sectionCount * sizeof(qpalpkgSection))
      expected = "section table checksum mismatch";
    else if (owners[at].first == 0)
      expected = "nonzero padding byte at offset " + std::to_string(at);
    else
      expected = owners[at].second;
    ASSERT_NE(message.find(expected), std::string::npos)
        << "byte " << at << ": " << message;
  }
}

/// The header's fields, each wrong with valid checksums.
TEST_F(PackageInvalid, Header) {
  auto withHeader = [&](auto edit) {
    std::string image = valid;
    qpalpkgHeader header = getHeader(image);
    edit(header);
    setHeader(image, header);
    reseal(image);
    return image;
  };
  EXPECT_QPALRT_ERROR(
      open(withHeader([](qpalpkgHeader &h) { h.formatVersion = 2; })),
      QPALRT_ERROR_UNSUPPORTED,
      "package format version 2, this runtime reads 1");
  EXPECT_QPALRT_ERROR(
      open(withHeader([](qpalpkgHeader &h) { h.headerBytes = 128; })),
      QPALRT_ERROR_FORMAT, "header size 128, expected 64");
  EXPECT_QPALRT_ERROR(
      open(withHeader([](qpalpkgHeader &h) { h.reserved1 = 1; })),
      QPALRT_ERROR_FORMAT, "reserved fields are not zero");
  EXPECT_QPALRT_ERROR(
      open(withHeader([](qpalpkgHeader &h) { h.sectionCount = 65; })),
      QPALRT_ERROR_FORMAT, "65 sections, at most 64 allowed");
  EXPECT_QPALRT_ERROR(
      open(withHeader([](qpalpkgHeader &h) { h.sectionTableOffset = 96; })),
      QPALRT_ERROR_FORMAT, "section table offset 96 is not a multiple of 64");
  EXPECT_QPALRT_ERROR(
      open(withHeader([](qpalpkgHeader &h) { h.sectionTableOffset = 0; })),
      QPALRT_ERROR_FORMAT, "section table offset 0 overlaps the header");
  EXPECT_QPALRT_ERROR(open(withHeader([&](qpalpkgHeader &h) {
                        h.sectionTableOffset = valid.size() / 64 * 64;
                      })),
                      QPALRT_ERROR_FORMAT, "extends past the end of the file");
  EXPECT_QPALRT_ERROR(open(withHeader([](qpalpkgHeader &h) {
                        h.sectionTableOffset = uint64_t(-64);
                      })),
                      QPALRT_ERROR_FORMAT, "extends past the end of the file");
  std::string unsealed = valid;
  unsealed[offsetof(qpalpkgHeader, fileBytes)] ^= 1;
  EXPECT_QPALRT_ERROR(open(unsealed), QPALRT_ERROR_FORMAT,
                      "header checksum mismatch");
}

/// Section table entries that are wrong, with valid checksums.
TEST_F(PackageInvalid, SectionTable) {
  auto withEntry = [&](size_t i, auto edit) {
    std::string image = valid;
    qpalpkgSection entry = getEntry(image, i);
    edit(entry);
    setEntry(image, i, entry);
    reseal(image);
    return image;
  };
  // Sections: 0 manifest, 1 tokenizer, 2 code.cpu, 3 weights.
  qpalpkgSection manifest = getEntry(valid, 0);
  EXPECT_QPALRT_ERROR(
      open(
          withEntry(1, [&](qpalpkgSection &e) { e.offset = manifest.offset; })),
      QPALRT_ERROR_FORMAT, ") overlaps section '");
  EXPECT_QPALRT_ERROR(
      open(withEntry(0, [](qpalpkgSection &e) { e.offset = 0; })),
      QPALRT_ERROR_FORMAT, "section 'manifest' [0, ");
  EXPECT_QPALRT_ERROR(
      open(withEntry(0, [](qpalpkgSection &e) { e.bytes += 200; })),
      QPALRT_ERROR_FORMAT, "overlaps section 'manifest'");
  EXPECT_QPALRT_ERROR(
      open(withEntry(3, [](qpalpkgSection &e) { e.offset += 1; })),
      QPALRT_ERROR_FORMAT, "section 'weights' at offset ");
  EXPECT_QPALRT_ERROR(
      open(withEntry(3, [](qpalpkgSection &e) { e.bytes = uint64_t(-1); })),
      QPALRT_ERROR_FORMAT, "section 'weights' [");
  EXPECT_QPALRT_ERROR(
      open(withEntry(2,
                     [](qpalpkgSection &e) { std::memset(e.name, 'c', 32); })),
      QPALRT_ERROR_FORMAT, "section 2: the name is not NUL-terminated");
  EXPECT_QPALRT_ERROR(
      open(withEntry(2, [](qpalpkgSection &e) { e.name[0] = '\0'; })),
      QPALRT_ERROR_FORMAT, "section 2 has an empty name");
  EXPECT_QPALRT_ERROR(
      open(withEntry(2, [](qpalpkgSection &e) { e.name[20] = 'x'; })),
      QPALRT_ERROR_FORMAT, "section 'code.cpu': the name's padding");
  EXPECT_QPALRT_ERROR(
      open(withEntry(2, [](qpalpkgSection &e) { e.reserved = 5; })),
      QPALRT_ERROR_FORMAT, "section 'code.cpu': the reserved field");
  EXPECT_QPALRT_ERROR(
      open(withEntry(
          1, [](qpalpkgSection &e) { std::strcpy(e.name, "manifest"); })),
      QPALRT_ERROR_FORMAT, "two sections are named 'manifest'");
  EXPECT_QPALRT_ERROR(
      open(withEntry(3, [](qpalpkgSection &e) { e.checksum ^= 1; })),
      QPALRT_ERROR_FORMAT, "section 'weights': checksum mismatch");
}

/// A package lacks a section it needs.
TEST_F(PackageInvalid, MissingSections) {
  for (const char *name : {"manifest", "tokenizer", "code.cpu", "weights"}) {
    std::vector<SectionBytes> sections = fakeSections(code);
    for (size_t i = 0; i < sections.size(); ++i)
      if (sections[i].name == name)
        sections.erase(sections.begin() + i);
    EXPECT_QPALRT_ERROR(open(writePackage(sections)), QPALRT_ERROR_FORMAT,
                        std::string("missing section '") + name + "'");
  }
  // Sections the runtime does not know are allowed.
  std::vector<SectionBytes> sections = fakeSections(code);
  sections.push_back({"notes", "compiled by a test"});
  EXPECT_EQ(open(writePackage(sections)), QPALRT_SUCCESS)
      << qpalrtGetLastError();
}

/// Sections whose contents are not what their name says.
TEST_F(PackageInvalid, BadSectionContents) {
  std::vector<SectionBytes> sections = fakeSections(code);
  sections[1].bytes = "not a vocabulary";
  EXPECT_QPALRT_ERROR(open(writePackage(sections)), QPALRT_ERROR_FORMAT,
                      "section 'tokenizer': ");
  sections = fakeSections(code);
  sections[2].bytes = "\x7f"
                      "ELF but not really";
  EXPECT_QPALRT_ERROR(open(writePackage(sections)), QPALRT_ERROR_FORMAT,
                      "section 'code.cpu': cannot load");
  sections[2].bytes = "";
  EXPECT_QPALRT_ERROR(open(writePackage(sections)), QPALRT_ERROR_FORMAT,
                      "section 'code.cpu' is empty");
  // A vocabulary larger than the model's.
  EXPECT_QPALRT_ERROR(openManifest(replaceOnce(kManifest, R"("vocab_size": 16)",
                                               R"("vocab_size": 15)")),
                      QPALRT_ERROR_FORMAT,
                      "16 tokens, more than the model's vocab_size 15");
}

/// An entry point the code does not export.
TEST_F(PackageInvalid, MissingEntryPoint) {
  std::string onlyB1 =
      readFile(besideTestBinary("libqpalrt_test_fake_step_b1.so"));
  EXPECT_QPALRT_ERROR(open(writePackage(fakeSections(onlyB1))),
                      QPALRT_ERROR_NOT_FOUND,
                      "entry point '_mlir_ciface_qpal_step_b4' (batch 4) not "
                      "found in section 'code.cpu'");
}

/// An entry point whose name resolves only in a library the code depends on
/// (libc's `abort`) is not the package's.
TEST_F(PackageInvalid, EntryPointFromAnotherLibrary) {
  EXPECT_QPALRT_ERROR(
      openManifest(
          replaceOnce(kManifest, "_mlir_ciface_qpal_step_b4", "abort")),
      QPALRT_ERROR_NOT_FOUND,
      "entry point 'abort' (batch 4) is not defined by section 'code.cpu'");
}

/// Manifests without a field the runtime needs.
TEST_F(PackageInvalid, ManifestMissingFields) {
  struct Case {
    const char *remove, *replacement, *message;
  } cases[] = {
      {R"("format_version": 1,)", "", "format_version is missing"},
      {R"("target": "cpu",)", "", "target is missing"},
      {R"("vocab_size": 16,)", "", "model.vocab_size is missing"},
      {R"("layers": 2,)", "", "model.layers is missing"},
      {R"("kv_heads": 1,)", "", "model.kv_heads is missing"},
      {R"("head_dim": 3,)", "", "model.head_dim is missing"},
      {R"("context_length": 32,)", "", "model.context_length is missing"},
      {R"("planes": 4,)", "", "kv_cache.planes is missing"},
      {R"(, "width": 3)", "", "kv_cache.width is missing"},
      {R"("kv_cache")", R"("kv_cash")", "kv_cache is missing"},
      {R"("model")", R"("modle")", "model is missing"},
      {R"("entry_points")", R"("entrypoints")", "entry_points is missing"},
      {R"("symbol": "_mlir_ciface_qpal_step_b1", )", "",
       "entry_points[0].symbol is missing"},
      {R"(, "batch": 4)", "", "entry_points[1].batch is missing"},
  };
  for (const Case &c : cases)
    EXPECT_QPALRT_ERROR(
        openManifest(replaceOnce(kManifest, c.remove, c.replacement)),
        QPALRT_ERROR_FORMAT, std::string("manifest: ") + c.message);
}

/// Manifests whose fields are wrong or disagree.
TEST_F(PackageInvalid, ManifestBadFields) {
  struct Case {
    const char *from, *to, *message;
  } cases[] = {
      {R"("planes": 4)", R"("planes": 5)",
       "kv_cache.planes 5 differs from 2 x model.layers (4)"},
      {R"("width": 3)", R"("width": 6)",
       "kv_cache.width 6 differs from model.kv_heads x model.head_dim "
       "(1 x 3 = 3)"},
      {R"("vocab_size": 16)", R"("vocab_size": -16)",
       "model.vocab_size must be an integer in [1, 2147483647], got -16"},
      {R"("layers": 2)", R"("layers": 2.5)",
       "model.layers must be an integer in [1, 2147483647], got 2.5"},
      {R"("head_dim": 3)", R"("head_dim": "3")",
       "model.head_dim must be an integer in [1, 2147483647], got \"3\""},
      {R"("context_length": 32)", R"("context_length": 0)",
       "model.context_length must be an integer in [1, 2147483647], got 0"},
      {R"("batch": 4)", R"("batch": 0)",
       "entry_points[1].batch must be an integer in [1, 65536], got 0"},
      {R"("batch": 4)", R"("batch": 1)", "entry_points lists batch 1 twice"},
      {R"("batch": 1)", R"("batch": 2)",
       "entry_points has no entry point of batch 1"},
      {R"("symbol": "_mlir_ciface_qpal_step_b1")", R"("symbol": "")",
       "entry_points[0].symbol must be a symbol name"},
      {R"("format_version": 1)", R"("format_version": 2)",
       "format_version 2 differs from the header's 1"},
      {R"("target": "cpu")", R"("target": "tpu")", "unknown target \"tpu\""},
      {R"("target": "cpu")", R"("target": 1)",
       "target must be a string, got 1"},
      {R"("name": "fake-llama")", R"("name": [])",
       "model.name must be a string, got an array"},
      {R"("bits_per_weight": 4.25)", R"("bits_per_weight": -1)",
       "bits_per_weight must be a non-negative number"},
      {R"("rope_theta": 10000.0)", R"("rope_theta": null)",
       "model.rope_theta must be a number, got null"},
      {R"("plan": [)", R"("plan": 3, "plans": [)",
       "plan must be an array, got 3"},
  };
  for (const Case &c : cases)
    EXPECT_QPALRT_ERROR(openManifest(replaceOnce(kManifest, c.from, c.to)),
                        QPALRT_ERROR_FORMAT,
                        std::string("manifest: ") + c.message);
}

/// An nvptx package names the GPU its PTX is for, one the runtime knows,
/// and has a "code.nvptx" section; both are checked before any device is
/// looked for (PackageGpuTest.cpp runs nvptx packages).
TEST_F(PackageInvalid, NvptxTarget) {
  std::string nvptx =
      replaceOnce(kManifest, R"("target": "cpu")", R"("target": "nvptx")");
  EXPECT_QPALRT_ERROR(openManifest(nvptx), QPALRT_ERROR_FORMAT,
                      "manifest: chip \"x86-64 test\" is not a GPU nvptx "
                      "packages run on (known: \"sm_80\", \"sm_86\", "
                      "\"sm_89\", \"sm_90\")");
  EXPECT_QPALRT_ERROR(
      openManifest(replaceOnce(nvptx, R"("x86-64 test")", R"("sm_75")")),
      QPALRT_ERROR_FORMAT, "manifest: chip \"sm_75\" is not a GPU");
  EXPECT_QPALRT_ERROR(
      openManifest(replaceOnce(nvptx, R"("x86-64 test")", "90")),
      QPALRT_ERROR_FORMAT, "manifest: chip must be a string, got 90");
  EXPECT_QPALRT_ERROR(
      openManifest(replaceOnce(nvptx, R"("chip": "x86-64 test",)", "")),
      QPALRT_ERROR_FORMAT, "manifest: chip is missing");
  EXPECT_QPALRT_ERROR(
      openManifest(replaceOnce(nvptx, R"("x86-64 test")", R"("sm_90")")),
      QPALRT_ERROR_FORMAT, "missing section 'code.nvptx' for target 'nvptx'");
}

/// Manifests that are not JSON objects, however hostile.
TEST_F(PackageInvalid, ManifestNotJson) {
  EXPECT_QPALRT_ERROR(openManifest(std::string(100000, '[')),
                      QPALRT_ERROR_FORMAT,
                      "manifest: invalid JSON: nesting deeper than 64 levels "
                      "at byte 64");
  EXPECT_QPALRT_ERROR(openManifest("[1, 2]"), QPALRT_ERROR_FORMAT,
                      "the manifest must be a JSON object, got an array");
  EXPECT_QPALRT_ERROR(openManifest(kManifest + "}"), QPALRT_ERROR_FORMAT,
                      "manifest: invalid JSON: unexpected text after the "
                      "value at byte");
  EXPECT_QPALRT_ERROR(openManifest(""), QPALRT_ERROR_FORMAT,
                      "manifest: invalid JSON: unexpected end of the text");
  EXPECT_QPALRT_ERROR(
      openManifest(replaceOnce(kManifest, R"("chip": "x86-64 test",)",
                               R"("chip": "x86-64", "chip": "again",)")),
      QPALRT_ERROR_FORMAT, "manifest: invalid JSON: duplicate key \"chip\"");
}

} // namespace
