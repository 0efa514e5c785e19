//===- TokenizerFuzzer.cpp - libFuzzer harness for encode/decode ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Random bytes in, round trip out. The first byte picks a vocabulary: the
// byte-level BPE and the SentencePiece fixtures of test/Model/Inputs (made
// by scripts/oracle/make_tokenizer_fixtures.py), the Llama 3 one
// (make_llama3_tokenizer_fixture.py), and the GGUF file named by
// QPAL_FUZZ_TOKENIZER_GGUF (SmolLM2's, say) when set. The rest is encoded
// with and without special-token parsing and decoded. Findings:
//
//  - an id outside the vocabulary;
//  - a text whose every byte the vocabulary spells on its own that does not
//    decode back to itself (up to the one space a SentencePiece encoder
//    puts in front): byte-level BPE and byte fallback lose nothing they can
//    spell. For SentencePiece the text must also be valid UTF-8: like
//    llama.cpp, the encoder splits invalid UTF-8 by its lead bytes' lengths,
//    so the escaped space after an invalid byte can be cut into byte tokens
//    that decode to the bytes of U+2581, not to a space (fuzz/corpus/
//    tokenizer/crash-spm-invalid-utf8 is such an input). Nor may it hold
//    U+2581 itself, which SentencePiece decodes as the space it stands for
//    (crash-spm-literal-u2581).
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Gguf.h"
#include "qpal/Model/Tokenizer.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace qpal::model;

namespace {

struct Vocabulary {
  std::string name;
  std::unique_ptr<GgufFile> file;
  std::unique_ptr<Tokenizer> tokenizer;
  /// Bytes whose one-byte text round-trips alone.
  std::array<bool, 256> spells{};
};

std::vector<Vocabulary> vocabularies;

[[noreturn]] void finding(const Vocabulary &vocab, const std::string &what) {
  std::fprintf(stderr, "finding (%s): %s\n", vocab.name.c_str(), what.c_str());
  std::abort();
}

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or
/// code points past U+10FFFF).
bool isValidUtf8(llvm::StringRef text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    size_t length = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (!length || i + length > text.size())
      return false;
    uint32_t cp = length == 1 ? c : c & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      unsigned char next = text[i + k];
      if ((next & 0xC0) != 0x80)
        return false;
      cp = cp << 6 | (next & 0x3F);
    }
    static const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[length] || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += length;
  }
  return true;
}

/// Whether `decoded` is `text`, up to a SentencePiece encoder's leading
/// space.
bool sameText(const Tokenizer &tokenizer, llvm::StringRef text,
              const std::string &decoded) {
  if (decoded == text)
    return true;
  if (tokenizer.getKind() != TokenizerKind::SentencePiece)
    return false;
  return decoded == " " + text.str() ||
         (text.starts_with(" ") && decoded == text.drop_front());
}

void load(const std::string &path) {
  auto file = GgufFile::open(path);
  llvm::Expected<std::unique_ptr<Tokenizer>> tokenizer =
      file ? Tokenizer::fromGguf(**file)
           : llvm::Expected<std::unique_ptr<Tokenizer>>(file.takeError());
  if (!tokenizer) {
    std::fprintf(stderr, "qpal-tokenizer-fuzzer: '%s': %s\n", path.c_str(),
                 llvm::toString(tokenizer.takeError()).c_str());
    std::exit(1);
  }
  Vocabulary vocab{path, std::move(*file), std::move(*tokenizer), {}};
  for (int byte = 0; byte < 256; ++byte) {
    std::string text(1, char(byte));
    vocab.spells[byte] =
        sameText(*vocab.tokenizer, text,
                 vocab.tokenizer->decode(vocab.tokenizer->encode(text), true));
  }
  vocabularies.push_back(std::move(vocab));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  load(QPAL_FUZZ_INPUTS "/bpe-vocab.gguf");
  load(QPAL_FUZZ_INPUTS "/spm-vocab.gguf");
  load(QPAL_FUZZ_INPUTS "/llama3-vocab.gguf");
  if (const char *path = std::getenv("QPAL_FUZZ_TOKENIZER_GGUF"))
    load(path);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const Vocabulary &vocab = vocabularies[data[0] % vocabularies.size()];
  const Tokenizer &tokenizer = *vocab.tokenizer;
  llvm::StringRef text(reinterpret_cast<const char *>(data) + 1, size - 1);

  for (bool parseSpecial : {false, true}) {
    std::vector<int32_t> ids = tokenizer.encode(text, true, parseSpecial);
    for (int32_t id : ids)
      if (id < 0 || id >= tokenizer.getVocabSize())
        finding(vocab, "id " + std::to_string(id) + " is outside [0, " +
                           std::to_string(tokenizer.getVocabSize()) + ")");
    (void)tokenizer.decode(ids, false);
  }

  for (unsigned char c : text)
    if (!vocab.spells[c])
      return 0;
  if (tokenizer.getKind() == TokenizerKind::SentencePiece &&
      (!isValidUtf8(text) || text.contains("\xe2\x96\x81")))
    return 0;
  std::string decoded = tokenizer.decode(tokenizer.encode(text), true);
  if (!sameText(tokenizer, text, decoded))
    finding(vocab, "'" + text.str() + "' decodes as '" + decoded + "'");
  return 0;
}
