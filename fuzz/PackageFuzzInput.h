//===- PackageFuzzInput.h - One input of the package fuzzer -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// What fuzz/PackageFuzzer.cpp does with one input, shared with the replay of
// fuzz/corpus/package in the runtime's unit tests (test/Unit/Runtime), so
// that both run the same code. An input is one mode byte and a body:
//
//   mode bit 0 clear   raw: the body is the package file, as it is
//   mode bit 0 set     sealed: the body is section contents, laid out by
//                      sealPackage() with a valid header, table, padding and
//                      checksums, so that the loader gets to the manifest,
//                      the JSON reader and the tokenizer
//
// A sealed body is parts separated by kPartSeparator: the manifest, the
// tokenizer, the weights, then extra sections ("name\0contents"). A missing
// tokenizer or weights part is the fake model's (test/Unit/Runtime/
// PackageTestUtils.h). "code.cpu" is always the trusted shared object (built
// from test/Unit/Runtime/Inputs/FakeStep.c): never bytes of the input. The
// other mode bits vary the layout:
//
//   bit 1    the tokenizer part is a payload: put it behind a QPALTOK header
//            with its size and CRC-32
//   bit 2    the sections in reverse order
//   bit 3    the section table after the sections
//   bit 4    64 zero bytes after every section
//   bits 5-7 4: no manifest, 5: no tokenizer, 6: no code.cpu, 7: no weights
//
// The loader dlopens the bytes of "code.cpu" once every checksum matches,
// and dlopening an ELF file runs its initializers; with the checksums
// forged (libFuzzer learns 64-bit values from comparisons) a raw input
// could make it run any code. An input is therefore opened only if every
// section whose checksum matches and whose bytes start as an ELF file holds
// exactly the trusted object (loadsOnlyTrustedCode). An opened package's
// entry points are called only if they are the fake step's and its sizes
// keep a run small.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_FUZZ_PACKAGEFUZZINPUT_H
#define QPAL_FUZZ_PACKAGEFUZZINPUT_H

#include "Package.h"
#include "qpalpkg.h"
#include "qpalrt.h"
#include "qpaltok/Tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace qpalrt::fuzz {

/// Separates the parts of a sealed input. Never in valid JSON text.
constexpr std::string_view kPartSeparator = "\n%%\n";
/// The first bytes of an ELF file, the only files dlopen loads.
constexpr std::string_view kElfMagic = "\x7f"
                                       "ELF";
/// The most extra sections a sealed input adds.
constexpr size_t kMaxExtraSections = 8;
/// The entry points of FakeStep.c: symbol and batch.
constexpr std::pair<std::string_view, int64_t> kFakeEntryPoints[] = {
    {"_mlir_ciface_qpal_step_b1", 1}, {"_mlir_ciface_qpal_step_b4", 4}};

/// CRC-32 (IEEE), bit by bit, as qpaltok's header records it.
inline uint32_t crc32(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k)
      crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFu;
}

/// Appends the `count` low bytes of `value`, little-endian.
inline void appendLittleEndian(std::string &out, uint64_t value, int count) {
  for (int i = 0; i < count; ++i)
    out += char(value >> (8 * i));
}

/// The fake model's vocabulary: "<|endoftext|>" and the letters a to o.
inline std::string fakeTokenizer() {
  qpaltok::Vocabulary vocab;
  vocab.preTokenizer = "gpt2";
  vocab.bos = vocab.eos = 0;
  vocab.texts.push_back("<|endoftext|>");
  vocab.types.push_back(qpaltok::TokenType::Control);
  for (char c = 'a'; c <= 'o'; ++c) {
    vocab.texts.push_back(std::string(1, c));
    vocab.types.push_back(qpaltok::TokenType::Normal);
  }
  return qpaltok::serializeVocabulary(vocab);
}

/// The fake model's arena: 200 pseudo-random bytes.
inline std::string fakeArena() {
  std::string arena(200, '\0');
  uint32_t state = 7;
  for (char &byte : arena) {
    state = state * 1664525u + 1013904223u;
    byte = char(state >> 24);
  }
  return arena;
}

/// Lays out a sealed input's body (see the file comment) as a package whose
/// "code.cpu" is `code`.
inline std::string sealPackage(uint8_t mode, std::string_view body,
                               const std::string &code) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    size_t next = body.find(kPartSeparator, at);
    parts.push_back(body.substr(at, next - at));
    if (next == std::string_view::npos || parts.size() == 3 + kMaxExtraSections)
      break;
    at = next + kPartSeparator.size();
  }
  std::string tokenizer = fakeTokenizer();
  if (parts.size() > 1 && mode & 2) {
    tokenizer = std::string("QPALTOK\0", 8);
    appendLittleEndian(tokenizer, 1, 4);
    appendLittleEndian(tokenizer, crc32(parts[1]), 4);
    appendLittleEndian(tokenizer, parts[1].size(), 8);
    tokenizer += parts[1];
  } else if (parts.size() > 1) {
    tokenizer = std::string(parts[1]);
  }
  std::vector<std::pair<std::string, std::string>> sections = {
      {"manifest", std::string(parts[0])},
      {"tokenizer", tokenizer},
      {"code.cpu", code},
      {"weights", parts.size() > 2 ? std::string(parts[2]) : fakeArena()}};
  if (unsigned drop = mode >> 5; drop >= 4)
    sections.erase(sections.begin() + (drop - 4));
  for (size_t i = 3; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    size_t nul = std::min(part.find('\0'), part.size());
    std::string name(part.substr(0, nul));
    sections.push_back(
        {name, name == "code.cpu"
                   ? code
                   : std::string(part.substr(std::min(nul + 1, part.size())))});
  }
  if (mode & 4)
    std::reverse(sections.begin(), sections.end());

  auto align = [](size_t offset) {
    return (offset + QPALPKG_ALIGNMENT - 1) / QPALPKG_ALIGNMENT *
           QPALPKG_ALIGNMENT;
  };
  size_t tableBytes = sections.size() * sizeof(qpalpkgSection);
  bool tableLast = mode & 8;
  std::string image(sizeof(qpalpkgHeader), '\0');
  if (!tableLast)
    image.resize(image.size() + tableBytes, '\0');
  std::string table;
  for (const auto &[name, bytes] : sections) {
    image.resize(align(image.size()), '\0');
    qpalpkgSection entry;
    std::memset(&entry, 0, sizeof(entry));
    std::memcpy(entry.name, name.data(),
                std::min(name.size(), sizeof(entry.name)));
    entry.offset = image.size();
    entry.bytes = bytes.size();
    entry.checksum = qpalpkgChecksum(bytes.data(), bytes.size());
    table.append(reinterpret_cast<const char *>(&entry), sizeof(entry));
    image += bytes;
    if (mode & 16)
      image.resize(align(image.size()) + QPALPKG_ALIGNMENT, '\0');
  }
  size_t tableOffset = sizeof(qpalpkgHeader);
  if (tableLast) {
    tableOffset = align(image.size());
    image.resize(tableOffset, '\0');
    image += table;
  } else {
    image.replace(tableOffset, tableBytes, table);
  }

  qpalpkgHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, QPALPKG_MAGIC, sizeof(header.magic));
  header.formatVersion = QPALPKG_FORMAT_VERSION;
  header.headerBytes = sizeof(qpalpkgHeader);
  header.fileBytes = image.size();
  header.sectionTableOffset = tableOffset;
  header.sectionCount = uint32_t(sections.size());
  header.sectionTableChecksum = qpalpkgChecksum(table.data(), table.size());
  header.headerChecksum =
      qpalpkgChecksum(&header, offsetof(qpalpkgHeader, headerChecksum));
  std::memcpy(&image[0], &header, sizeof(header));
  return image;
}

/// Whether every section of `image` that the loader could dlopen holds
/// `code`. Reads the table as a loader that skipped every check but the
/// section's checksum would, whatever the section's name: any such section
/// that starts as an ELF file must be `code`. Bytes that are not ELF fail in
/// dlopen before anything runs.
inline bool loadsOnlyTrustedCode(std::string_view image,
                                 std::string_view code) {
  if (image.size() < sizeof(qpalpkgHeader))
    return true;
  qpalpkgHeader header;
  std::memcpy(&header, image.data(), sizeof(header));
  uint64_t size = image.size(), at = header.sectionTableOffset;
  for (uint64_t i = 0; i < header.sectionCount && at <= size &&
                       sizeof(qpalpkgSection) <= size - at;
       ++i, at += sizeof(qpalpkgSection)) {
    qpalpkgSection entry;
    std::memcpy(&entry, image.data() + at, sizeof(entry));
    if (entry.offset > size || entry.bytes > size - entry.offset)
      continue;
    std::string_view bytes = image.substr(entry.offset, entry.bytes);
    if (bytes.substr(0, kElfMagic.size()) != kElfMagic || bytes == code)
      continue;
    if (qpalpkgChecksum(bytes.data(), bytes.size()) == entry.checksum)
      return false;
  }
  return true;
}

/// Whether a session of `maxTokens` positions stays small: its KV cache and
/// logits scratch, and the fake step's work, which grows with vocabulary x
/// planes x width per position.
inline bool sessionIsSmall(const Manifest &manifest, int64_t maxTokens) {
  constexpr int64_t kMaxSize = 1 << 12, kMaxWork = 1 << 14;
  if (manifest.vocabSize > kMaxSize || manifest.planes > kMaxSize ||
      manifest.width > kMaxSize || maxTokens > kMaxSize)
    return false;
  return manifest.vocabSize * manifest.planes * manifest.width <= kMaxWork &&
         manifest.planes * manifest.width * maxTokens <= kMaxWork;
}

/// Whether every entry point is one of FakeStep.c's, with its batch: a
/// manifest may name any symbol that dlsym finds from the code (libc's
/// too), and only the fake step's can be called with a step's arguments.
inline bool entryPointsAreFakeSteps(const Manifest &manifest) {
  return std::all_of(manifest.entryPoints.begin(), manifest.entryPoints.end(),
                     [](const EntryPoint &entry) {
                       return std::any_of(std::begin(kFakeEntryPoints),
                                          std::end(kFakeEntryPoints),
                                          [&](const auto &fake) {
                                            return entry.symbol == fake.first &&
                                                   entry.batch == fake.second;
                                          });
                     });
}

/// Reads what the API tells about an opened package, and runs a few tokens
/// if that is safe.
inline void exercisePackage(qpalrtPackage *package) {
  qpalrtModelInfo info;
  (void)qpalrtGetModelInfo(package, &info);
  size_t count = 0;
  (void)qpalrtGetPackageSectionCount(package, &count);
  for (size_t i = 0; i < count; ++i) {
    const char *name;
    const void *data;
    size_t bytes;
    if (qpalrtGetPackageSectionAt(package, i, &name, &data, &bytes) ==
        QPALRT_SUCCESS)
      (void)qpalrtGetPackageSection(package, name, &data, &bytes);
  }

  const Manifest &manifest = package->manifest;
  int64_t maxTokens = std::min<int64_t>(manifest.contextLength, 6);
  if (!sessionIsSmall(manifest, maxTokens))
    return;
  qpalrtSession *session = nullptr;
  if (qpalrtCreateSession(package, maxTokens, &session) != QPALRT_SUCCESS)
    return;
  if (!entryPointsAreFakeSteps(manifest))
    return; // closing the package destroys the session
  std::vector<int32_t> tokens(size_t(maxTokens) + 1);
  for (size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = int32_t(i % size_t(manifest.vocabSize));
  std::vector<float> logits(tokens.size() * size_t(manifest.vocabSize));
  // Batches of 4 and 1, one more token, then one too many.
  (void)qpalrtSessionRun(session, tokens.data(), maxTokens - 1, logits.data(),
                         0);
  (void)qpalrtSessionRun(session, tokens.data(), 1, logits.data(), 1);
  (void)qpalrtSessionRun(session, tokens.data(), 1, logits.data(), 1);
  (void)qpalrtSessionReset(session);
  (void)qpalrtSessionRun(session, tokens.data(), maxTokens, nullptr, 1);
  (void)qpalrtDestroySession(session);
}

/// Runs one input (see the file comment): builds the package, writes it to
/// a memory file and opens it, unless it could load code other than `code`
/// (the trusted shared object).
inline void runPackageInput(const uint8_t *data, size_t size,
                            const std::string &code) {
  if (size == 0)
    return;
  std::string_view body(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string image =
      data[0] & 1 ? sealPackage(data[0], body, code) : std::string(body);
  if (!loadsOnlyTrustedCode(image, code))
    return;
  int fd = memfd_create("qpal-package-fuzz", MFD_CLOEXEC);
  if (fd < 0)
    return;
  for (size_t done = 0; done < image.size();) {
    ssize_t n = write(fd, image.data() + done, image.size() - done);
    if (n <= 0) {
      close(fd);
      return;
    }
    done += size_t(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  qpalrtPackage *package = nullptr;
  if (qpalrtOpenPackage(path.c_str(), &package) == QPALRT_SUCCESS) {
    exercisePackage(package);
    (void)qpalrtClosePackage(package);
  }
  close(fd);
}

} // namespace qpalrt::fuzz

#endif // QPAL_FUZZ_PACKAGEFUZZINPUT_H
