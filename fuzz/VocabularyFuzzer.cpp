//===- VocabularyFuzzer.cpp - libFuzzer harness for qpaltok ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes to parseVocabulary twice: as they are (the header
// checks), and as the payload behind a valid header, so that the fuzzer gets
// past the checksum to the payload reader. A vocabulary that parses is built
// into a tokenizer, which encodes and decodes a few texts, and must serialize
// back to the same bytes. Any error is fine; a crash, a sanitizer report or
// a serialization that differs is a finding.
//
//===----------------------------------------------------------------------===//

#include "qpaltok/Tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

/// CRC-32 (IEEE), bit by bit: the harness does not trust the library's.
uint32_t crc32(const uint8_t *data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k)
      crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFu;
}

/// Returns `payload` behind a version 1 header with its size and checksum.
std::string seal(const uint8_t *payload, size_t size) {
  std::string bytes("QPALTOK\0", 8);
  auto put = [&](uint64_t value, int count) {
    for (int i = 0; i < count; ++i)
      bytes += static_cast<char>(value >> (8 * i));
  };
  put(1, 4);
  put(crc32(payload, size), 4);
  put(size, 8);
  bytes.append(reinterpret_cast<const char *>(payload), size);
  return bytes;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qpaltok::Vocabulary vocab;
  std::string error;
  (void)qpaltok::parseVocabulary(data, size, vocab, error);

  std::string sealed = seal(data, size);
  if (!qpaltok::parseVocabulary(sealed.data(), sealed.size(), vocab, error))
    return 0;
  std::unique_ptr<qpaltok::Tokenizer> tokenizer =
      qpaltok::Tokenizer::create(std::move(vocab), error);
  if (!tokenizer)
    return 0;
  if (qpaltok::serializeVocabulary(tokenizer->getVocabulary()) != sealed)
    std::abort();
  for (std::string_view text :
       {"Hello world, it's 2024!  \n\n x", "caf\xc3\xa9 \xe2\x80\x94 \xff",
        "<|im_start|>user 12 ab", "<0x41>\xe2\x96\x81 a b ab"}) {
    std::vector<int32_t> ids = tokenizer->encode(text, true, true);
    (void)tokenizer->decode(ids.data(), ids.size(), true);
    (void)tokenizer->decode(ids.data(), ids.size(), false);
  }
  return 0;
}
