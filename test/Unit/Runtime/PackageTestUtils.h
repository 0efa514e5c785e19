//===- PackageTestUtils.h - Packages written by the tests -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A package writer of the tests' own (qpalpkg.h's layout, written here from
// the format's description rather than by the compiler), the fake model
// whose code is Inputs/FakeStep.c, and the logits FakeStep.c must produce,
// computed independently of the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TEST_UNIT_RUNTIME_PACKAGETESTUTILS_H
#define QPAL_TEST_UNIT_RUNTIME_PACKAGETESTUTILS_H

#include "RuntimeTestUtils.h"

#include "qpalpkg.h"
#include "qpaltok/Tokenizer.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qpalrt::test {

/// The fake model's sizes (see kManifest).
constexpr int64_t kVocab = 16, kLayers = 2, kPlanes = 2 * kLayers, kWidth = 3,
                  kContext = 32, kArenaBytes = 200;

/// A valid manifest for the fake model; tests edit it with replaceOnce.
inline const std::string kManifest = R"({
  "format_version": 1,
  "qpal_version": "0.1.0-test",
  "target": "cpu",
  "chip": "x86-64 test",
  "model": {"name": "fake-llama", "architecture": "llama", "vocab_size": 16,
            "hidden_size": 8, "layers": 2, "heads": 2, "kv_heads": 1,
            "head_dim": 3, "context_length": 32, "rope_theta": 10000.0,
            "rms_epsilon": 1e-5},
  "kv_cache": {"planes": 4, "width": 3},
  "entry_points": [{"symbol": "_mlir_ciface_qpal_step_b1", "batch": 1},
                   {"symbol": "_mlir_ciface_qpal_step_b4", "batch": 4}],
  "bits_per_weight": 4.25,
  "plan": [{"layer": "0_self_attn.q_proj", "quantizer": "tcq_6_none_0.9",
            "group": "blk0.q_k_v"}],
  "weights": [{"name": "blk0.q_k_v.codes", "offset": 0, "bytes": 200}]
})";

/// Returns `text` with its only occurrence of `from` replaced by `to`;
/// fails the test if `from` does not occur exactly once.
inline std::string replaceOnce(std::string text, const std::string &from,
                               const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in the text";
  EXPECT_EQ(text.find(from, at + 1), std::string::npos)
      << "'" << from << "' occurs twice";
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

/// The bytes of a file.
inline std::string readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

/// Writes `bytes` to `path`.
inline void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), std::streamsize(bytes.size()));
  ASSERT_TRUE(file.good()) << "cannot write " << path;
}

/// The fake model's weight arena: kArenaBytes pseudo-random bytes.
inline std::string fakeArena(unsigned seed = 7) {
  std::string arena(kArenaBytes, '\0');
  uint32_t state = seed;
  for (char &byte : arena) {
    state = state * 1664525u + 1013904223u;
    byte = char(state >> 24);
  }
  return arena;
}

/// The fake model's vocabulary: "<|endoftext|>" (control; BOS and EOS) and
/// the letters a to o, byte-level BPE without merges.
inline std::string fakeTokenizer() {
  qpaltok::Vocabulary vocab;
  vocab.kind = qpaltok::Kind::BytePairEncoding;
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

/// One section to write.
struct SectionBytes {
  std::string name;
  std::string bytes;
};

/// The sections of a valid package of the fake model; `code` is the shared
/// object ("code.cpu").
inline std::vector<SectionBytes>
fakeSections(const std::string &code, const std::string &manifest = kManifest) {
  return {{"manifest", manifest},
          {"tokenizer", fakeTokenizer()},
          {"code.cpu", code},
          {"weights", fakeArena()}};
}

/// Reads the header of a package image.
inline qpalpkgHeader getHeader(const std::string &image) {
  qpalpkgHeader header;
  std::memcpy(&header, image.data(), sizeof(header));
  return header;
}

/// Writes the header of a package image.
inline void setHeader(std::string &image, const qpalpkgHeader &header) {
  std::memcpy(&image[0], &header, sizeof(header));
}

/// Reads section table entry `i` of a package image.
inline qpalpkgSection getEntry(const std::string &image, size_t i) {
  qpalpkgSection entry;
  std::memcpy(&entry,
              image.data() + getHeader(image).sectionTableOffset +
                  i * sizeof(entry),
              sizeof(entry));
  return entry;
}

/// Writes section table entry `i` of a package image.
inline void setEntry(std::string &image, size_t i,
                     const qpalpkgSection &entry) {
  std::memcpy(&image[getHeader(image).sectionTableOffset + i * sizeof(entry)],
              &entry, sizeof(entry));
}

/// Recomputes the table's and the header's checksums of an image whose
/// header and table were edited, so that a check after them fires.
inline void reseal(std::string &image) {
  qpalpkgHeader header = getHeader(image);
  uint64_t tableBytes = uint64_t(header.sectionCount) * sizeof(qpalpkgSection);
  // A table that does not fit keeps its checksum: the reader refuses it
  // before it reads it.
  if (header.sectionTableOffset <= image.size() &&
      tableBytes <= image.size() - header.sectionTableOffset)
    header.sectionTableChecksum = qpalpkgChecksum(
        image.data() + header.sectionTableOffset, size_t(tableBytes));
  header.headerChecksum =
      qpalpkgChecksum(&header, offsetof(qpalpkgHeader, headerChecksum));
  setHeader(image, header);
}

/// Lays out `sections` as qpalpkg.h describes: the header, the table right
/// after it, then each section at the next multiple of 64, zero padded.
inline std::string writePackage(const std::vector<SectionBytes> &sections) {
  auto align = [](size_t offset) {
    return (offset + QPALPKG_ALIGNMENT - 1) / QPALPKG_ALIGNMENT *
           QPALPKG_ALIGNMENT;
  };
  size_t tableOffset = sizeof(qpalpkgHeader);
  size_t offset = tableOffset + sections.size() * sizeof(qpalpkgSection);
  std::string image(offset, '\0');
  for (size_t i = 0; i < sections.size(); ++i) {
    offset = align(offset);
    image.resize(offset, '\0');
    qpalpkgSection entry;
    std::memset(&entry, 0, sizeof(entry));
    std::strncpy(entry.name, sections[i].name.c_str(), sizeof(entry.name));
    entry.offset = offset;
    entry.bytes = sections[i].bytes.size();
    entry.checksum =
        qpalpkgChecksum(sections[i].bytes.data(), sections[i].bytes.size());
    std::memcpy(&image[tableOffset + i * sizeof(entry)], &entry, sizeof(entry));
    image += sections[i].bytes;
    offset = image.size();
  }
  qpalpkgHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, QPALPKG_MAGIC, sizeof(header.magic));
  header.formatVersion = QPALPKG_FORMAT_VERSION;
  header.headerBytes = sizeof(qpalpkgHeader);
  header.fileBytes = image.size();
  header.sectionTableOffset = tableOffset;
  header.sectionCount = uint32_t(sections.size());
  setHeader(image, header);
  reseal(image);
  return image;
}

/// The logits FakeStep.c (built with `salt`) gives the last token of
/// `sequence` (the tokens at positions 0 to sequence.size() - 1), from the
/// formula in its header comment, in double as it computes them.
inline std::vector<float> fakeLogits(const std::vector<int32_t> &sequence,
                                     const std::string &arena, int salt = 0) {
  auto byte = [&](int64_t index) {
    return uint8_t(arena[size_t(index % int64_t(arena.size()))]);
  };
  int64_t pos = int64_t(sequence.size()) - 1;
  std::vector<float> logits(kVocab);
  for (int64_t v = 0; v < kVocab; ++v) {
    double sum = 0.0;
    for (int64_t p = 0; p < kPlanes; ++p)
      for (int64_t j = 0; j <= pos; ++j)
        for (int64_t w = 0; w < kWidth; ++w) {
          int64_t token = sequence[size_t(j)];
          float cached =
              float(byte(7 * token + 5 * p + 3 * w + salt) + 1) / 32.0f +
              float(token) / 8.0f;
          double weight = (double(byte(11 * v + 13 * p + 17 * w)) - 128.0) /
                          64.0 * double(p + 1);
          sum += double(cached) * weight * double(j + 1) / double(pos + 1);
        }
    logits[size_t(v)] =
        float(sum + double(pos) / 2.0 + double(v) / 100.0 + salt);
  }
  return logits;
}

/// Expects `actual` (kVocab floats) to equal fakeLogits of `sequence`.
inline void expectFakeLogits(const float *actual,
                             const std::vector<int32_t> &sequence,
                             const std::string &arena, int salt = 0) {
  std::vector<float> expected = fakeLogits(sequence, arena, salt);
  for (int64_t v = 0; v < kVocab; ++v)
    EXPECT_NEAR(actual[v], expected[size_t(v)],
                1e-5 * (1 + std::abs(expected[size_t(v)])))
        << "position " << sequence.size() - 1 << ", vocabulary entry " << v;
}

} // namespace qpalrt::test

#endif // QPAL_TEST_UNIT_RUNTIME_PACKAGETESTUTILS_H
