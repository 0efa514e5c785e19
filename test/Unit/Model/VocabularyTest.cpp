//===- VocabularyTest.cpp - The serialized qpaltok vocabulary -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The GGUF vocabularies survive serializeVocabulary/parseVocabulary, and a
// qpaltok::Tokenizer rebuilt from the bytes gives the ids of
// qpal::model::Tokenizer and of llama.cpp. Damaged bytes (every prefix, every
// flipped byte, wrong versions, absurd counts behind a valid checksum) are
// rejected with a message, never a crash. The checksum is checked against
// LLVM's CRC-32, the layout against the one qpaltok/Tokenizer.h documents.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"

#include "qpaltok/Tokenizer.h"

#include "llvm/Support/CRC.h"

#include "gtest/gtest.h"

#include <cstring>
#include <random>

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

/// The serialized header: magic, version, checksum, payload size.
constexpr size_t headerSize = 24;
constexpr size_t versionOffset = 8, checksumOffset = 12, payloadSizeOffset = 16;

/// Texts that exercise both algorithms: the samples of TokenizerTest.cpp,
/// special tokens, digits, invalid and truncated UTF-8, emoji, whitespace.
const char *const sampleTexts[] = {
    "Hello world",
    "hello  world, the  and in is!",
    " leading space and trailing ",
    "Qu\xc3\xa9 pasa? \xe2\x80\x94 ZZZ 123",
    "the\nworld\t\tand\n\n",
    "",
    "<s>the</s> world",
    "<|im_start|>",
    "<|im_start|>user 12 ab<|im_end|>",
    "Hello world, it's 2024!  \n\n x",
    "caf\xc3\xa9 \xe2\x80\x94 \xff",
    "we'll they're I'd 1234567890",
    "\xf0\x9f\x98\x80 \xe2\x82",
    "   ",
};

uint32_t readU32(const std::string &bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + i]))
             << (8 * i);
  return value;
}

void writeU32(std::string &bytes, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i)
    bytes[offset + i] = static_cast<char>(value >> (8 * i));
}

uint32_t payloadCrc(const std::string &bytes) {
  return llvm::crc32(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(bytes.data()) + headerSize,
      bytes.size() - headerSize));
}

/// Recomputes the payload size and checksum after an edit of the payload.
void reseal(std::string &bytes) {
  writeU32(bytes, payloadSizeOffset,
           static_cast<uint32_t>(bytes.size() - headerSize));
  writeU32(bytes, payloadSizeOffset + 4, 0);
  writeU32(bytes, checksumOffset, payloadCrc(bytes));
}

/// Parses `bytes`, expecting failure with a message that contains `needle`,
/// and `out` untouched.
void expectRejected(const std::string &bytes, const std::string &needle) {
  qpaltok::Vocabulary out;
  out.texts = {"untouched"};
  std::string error;
  EXPECT_FALSE(qpaltok::parseVocabulary(bytes.data(), bytes.size(), out, error))
      << "expected: " << needle;
  EXPECT_NE(error.find(needle), std::string::npos)
      << "error '" << error << "' lacks '" << needle << "'";
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_EQ(out.texts, std::vector<std::string>{"untouched"});
}

/// Expects `a` and `b` to be the same vocabulary (scores bit for bit).
void expectSameVocabulary(const qpaltok::Vocabulary &a,
                          const qpaltok::Vocabulary &b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.preTokenizer, b.preTokenizer);
  EXPECT_EQ(a.addBos, b.addBos);
  EXPECT_EQ(a.addSpacePrefix, b.addSpacePrefix);
  EXPECT_EQ(a.bos, b.bos);
  EXPECT_EQ(a.eos, b.eos);
  EXPECT_EQ(a.texts, b.texts);
  ASSERT_EQ(a.scores.size(), b.scores.size());
  // Bit for bit (memcmp of no bytes may not be given a null pointer).
  EXPECT_TRUE(a.scores.empty() ||
              std::memcmp(a.scores.data(), b.scores.data(),
                          a.scores.size() * sizeof(float)) == 0);
  EXPECT_EQ(a.types, b.types);
  EXPECT_EQ(a.merges, b.merges);
}

/// Serializes `original`'s vocabulary, parses it back and checks that the
/// rebuilt tokenizer agrees with `original` on metadata, every token and
/// `texts`.
std::unique_ptr<qpaltok::Tokenizer>
roundTrip(const Tokenizer &original, const std::vector<std::string> &texts) {
  std::string bytes = qpaltok::serializeVocabulary(original.getVocabulary());
  EXPECT_EQ(readU32(bytes, checksumOffset), payloadCrc(bytes));
  qpaltok::Vocabulary parsed;
  std::string error;
  EXPECT_TRUE(
      qpaltok::parseVocabulary(bytes.data(), bytes.size(), parsed, error))
      << error;
  expectSameVocabulary(parsed, original.getVocabulary());
  std::unique_ptr<qpaltok::Tokenizer> rebuilt =
      qpaltok::Tokenizer::create(std::move(parsed), error);
  EXPECT_TRUE(rebuilt) << error;
  if (!rebuilt)
    return nullptr;

  EXPECT_EQ(rebuilt->getKind(), original.getKind());
  EXPECT_EQ(rebuilt->getPreTokenizer(), original.getPreTokenizer().str());
  EXPECT_EQ(rebuilt->getVocabSize(), original.getVocabSize());
  EXPECT_EQ(rebuilt->getBosToken(), original.getBosToken());
  EXPECT_EQ(rebuilt->getEosToken(), original.getEosToken());
  EXPECT_EQ(rebuilt->getAddBos(), original.getAddBos());
  for (int32_t id = -1; id <= original.getVocabSize(); ++id) {
    EXPECT_EQ(rebuilt->getTokenText(id), original.getTokenText(id).str());
    EXPECT_EQ(rebuilt->getTokenType(id), original.getTokenType(id));
  }
  for (const std::string &text : texts) {
    for (bool addBos : {false, true}) {
      for (bool parseSpecial : {false, true}) {
        std::vector<int32_t> ids = original.encode(text, addBos, parseSpecial);
        EXPECT_EQ(rebuilt->encode(text, addBos, parseSpecial), ids)
            << "'" << text << "' addBos=" << addBos
            << " parseSpecial=" << parseSpecial;
        for (bool includeSpecial : {false, true})
          EXPECT_EQ(rebuilt->decode(ids.data(), ids.size(), includeSpecial),
                    original.decode(ids, includeSpecial))
              << "'" << text << "'";
      }
    }
  }
  return rebuilt;
}

std::vector<std::string> allSampleTexts() {
  return std::vector<std::string>(std::begin(sampleTexts),
                                  std::end(sampleTexts));
}

/// Round-trips test/Model/Inputs/<name>-vocab.gguf and checks the rebuilt
/// tokenizer against llama.cpp's ids.
void checkFixture(const char *name, TokenizerKind kind) {
  auto model = openModel(inputPath(std::string(name) + "-vocab.gguf"));
  ASSERT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  auto tokenizer = loadTokenizer(**model);
  ASSERT_TRUE(static_cast<bool>(tokenizer)) << toString(tokenizer.takeError());
  EXPECT_EQ((*tokenizer)->getKind(), kind);
  std::unique_ptr<qpaltok::Tokenizer> rebuilt =
      roundTrip(**tokenizer, allSampleTexts());
  ASSERT_TRUE(rebuilt);

  auto expected = readJson(inputPath("tokenizer-llamacpp.json"));
  ASSERT_TRUE(expected);
  const llvm::json::Array *samples = expected->getAsObject()->getArray(name);
  ASSERT_TRUE(samples);
  for (const llvm::json::Value &sample : *samples) {
    const llvm::json::Object &object = *sample.getAsObject();
    std::string text = object.getString("text")->str();
    EXPECT_EQ(rebuilt->encode(text), integers(object.getArray("ids")))
        << name << ": '" << text << "'";
    EXPECT_EQ(rebuilt->encode(text, rebuilt->getAddBos(), true),
              integers(object.getArray("ids_bos_special")))
        << name << " (BOS, special): '" << text << "'";
  }
}

TEST(Vocabulary, BytePairEncodingRoundTrips) {
  checkFixture("bpe", TokenizerKind::BytePairEncoding);
}

TEST(Vocabulary, SentencePieceRoundTrips) {
  checkFixture("spm", TokenizerKind::SentencePiece);
}

// tiny-llama.gguf is a model without a vocabulary: there is nothing to
// serialize, and the GGUF adapter says which key is missing.
TEST(Vocabulary, TinyLlamaHasNoVocabulary) {
  auto file = GgufFile::open(inputPath("tiny-llama.gguf"));
  ASSERT_TRUE(static_cast<bool>(file)) << toString(file.takeError());
  EXPECT_EQ((*file)->lookup("tokenizer.ggml.tokens"), nullptr);
  auto tokenizer = Tokenizer::fromGguf(**file);
  ASSERT_FALSE(static_cast<bool>(tokenizer));
  EXPECT_NE(toString(tokenizer.takeError())
                .find("missing metadata 'tokenizer.ggml.model'"),
            std::string::npos);
}

// The real 49152-token vocabulary, when the model is present.
TEST(Vocabulary, SmolLM2RoundTrips) {
  std::optional<std::string> path = findSmolLM2();
  if (!path)
    GTEST_SKIP() << "SmolLM2 GGUF not found; set QPAL_SMOLLM2_GGUF";
  auto model = openModel(*path);
  ASSERT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  auto tokenizer = loadTokenizer(**model);
  ASSERT_TRUE(static_cast<bool>(tokenizer)) << toString(tokenizer.takeError());
  auto oracle = readJson(inputPath("smollm2-llamacpp.json"));
  ASSERT_TRUE(oracle);
  const llvm::json::Array *samples =
      oracle->getAsObject()->getArray("tokenizer_samples");
  ASSERT_TRUE(samples);
  std::vector<std::string> texts = allSampleTexts();
  for (const llvm::json::Value &sample : *samples)
    texts.push_back(sample.getAsObject()->getString("text")->str());
  std::unique_ptr<qpaltok::Tokenizer> rebuilt = roundTrip(**tokenizer, texts);
  ASSERT_TRUE(rebuilt);
  for (const llvm::json::Value &sample : *samples) {
    const llvm::json::Object &object = *sample.getAsObject();
    std::string text = object.getString("text")->str();
    EXPECT_EQ(rebuilt->encode(text), integers(object.getArray("ids")))
        << "'" << text << "'";
  }
}

/// A small BPE vocabulary with every field set.
qpaltok::Vocabulary smallVocabulary() {
  qpaltok::Vocabulary vocab;
  vocab.kind = qpaltok::Kind::BytePairEncoding;
  vocab.preTokenizer = "gpt2";
  vocab.addBos = true;
  vocab.bos = 0;
  vocab.eos = 3;
  vocab.texts = {"<s>", "a", "b", "ab"};
  vocab.scores = {0.0f, -1.0f, -2.5f, 3.0f};
  vocab.types = {qpaltok::TokenType::Control, qpaltok::TokenType::Normal,
                 qpaltok::TokenType::Normal, qpaltok::TokenType::Normal};
  vocab.merges = {"a b"};
  return vocab;
}

/// The payload offsets of smallVocabulary(), from the documented layout.
constexpr size_t kindOffset = headerSize;
constexpr size_t flagsOffset = kindOffset + 1;
constexpr size_t bosOffset = flagsOffset + 1;
constexpr size_t eosOffset = bosOffset + 4;
constexpr size_t preOffset = eosOffset + 4;
constexpr size_t tokenCountOffset = preOffset + 4 + 4; // "gpt2"
constexpr size_t firstTokenOffset = tokenCountOffset + 4;
constexpr size_t scoreCountOffset = firstTokenOffset + 7 + 5 + 5 + 6; // texts
constexpr size_t typeCountOffset = scoreCountOffset + 4 + 4 * 4;
constexpr size_t mergeCountOffset = typeCountOffset + 4 + 4;
constexpr size_t firstMergeOffset = mergeCountOffset + 4;

TEST(Vocabulary, SmallVocabularyLayout) {
  std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  ASSERT_EQ(bytes.size(), firstMergeOffset + 4 + 3);
  EXPECT_EQ(bytes.substr(0, 8), std::string("QPALTOK\0", 8));
  EXPECT_EQ(readU32(bytes, versionOffset), 1u);
  EXPECT_EQ(readU32(bytes, checksumOffset), payloadCrc(bytes));
  EXPECT_EQ(readU32(bytes, payloadSizeOffset), bytes.size() - headerSize);
  EXPECT_EQ(bytes[kindOffset], 0);
  EXPECT_EQ(bytes[flagsOffset], 1); // addBos
  EXPECT_EQ(readU32(bytes, eosOffset), 3u);
  EXPECT_EQ(readU32(bytes, tokenCountOffset), 4u);
  EXPECT_EQ(readU32(bytes, scoreCountOffset), 4u);
  EXPECT_EQ(readU32(bytes, typeCountOffset), 4u);
  EXPECT_EQ(readU32(bytes, mergeCountOffset), 1u);
  EXPECT_EQ(bytes.substr(firstMergeOffset + 4), "a b");

  qpaltok::Vocabulary parsed;
  std::string error;
  ASSERT_TRUE(
      qpaltok::parseVocabulary(bytes.data(), bytes.size(), parsed, error))
      << error;
  expectSameVocabulary(parsed, smallVocabulary());
  auto tokenizer = qpaltok::Tokenizer::create(std::move(parsed), error);
  ASSERT_TRUE(tokenizer) << error;
  EXPECT_EQ(tokenizer->encode("ab", true), std::vector<int32_t>({0, 3}));
}

TEST(Vocabulary, RejectsEveryPrefix) {
  std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  for (size_t size = 0; size < bytes.size(); ++size)
    expectRejected(bytes.substr(0, size),
                   "truncated at byte " + std::to_string(size));
  qpaltok::Vocabulary out;
  std::string error;
  EXPECT_FALSE(qpaltok::parseVocabulary(nullptr, 0, out, error));
  EXPECT_EQ(error, "truncated at byte 0 in the 24-byte header");
}

TEST(Vocabulary, RejectsEveryFlippedByte) {
  const std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      SCOPED_TRACE("byte " + std::to_string(at) + " ^ " + std::to_string(mask));
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ mask);
      if (at < versionOffset)
        expectRejected(damaged, "bad magic");
      else if (at < checksumOffset)
        expectRejected(damaged, "unsupported version");
      else if (at < payloadSizeOffset || at >= headerSize)
        expectRejected(damaged, "bad checksum");
      else if (readU32(damaged, payloadSizeOffset) <
                   readU32(bytes, payloadSizeOffset) &&
               readU32(damaged, payloadSizeOffset + 4) == 0)
        expectRejected(damaged, "trailing bytes");
      else
        expectRejected(damaged, "truncated at byte");
    }
  }
}

TEST(Vocabulary, RejectsOtherVersions) {
  std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  for (uint32_t version : {0u, 2u, 0xFFFFFFFFu}) {
    writeU32(bytes, versionOffset, version);
    expectRejected(bytes, "unsupported version " + std::to_string(version) +
                              ", expected 1");
  }
}

TEST(Vocabulary, RejectsBadHeaders) {
  expectRejected("GGUF", "bad magic 0x47475546");
  std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  std::string huge = bytes;
  writeU32(huge, payloadSizeOffset, 0xFFFFFFFF);
  writeU32(huge, payloadSizeOffset + 4, 0xFFFFFFFF);
  expectRejected(huge, "the header announces 18446744073709551615 payload "
                       "bytes, only " +
                           std::to_string(bytes.size() - headerSize));
  expectRejected(bytes + "x", "1 trailing bytes after the");
}

/// Returns smallVocabulary() serialized, with the u32 at `offset` replaced
/// by `value` and the checksum recomputed.
std::string withU32(size_t offset, uint32_t value) {
  std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  writeU32(bytes, offset, value);
  reseal(bytes);
  return bytes;
}

// A valid checksum does not make the payload trustworthy: every count and
// length is checked against the bytes left before anything is allocated.
TEST(Vocabulary, RejectsAbsurdCounts) {
  expectRejected(withU32(tokenCountOffset, 0xFFFFFFFF),
                 "token count 4294967295 does not fit in the");
  expectRejected(withU32(tokenCountOffset, 0x80000000),
                 "token count 2147483648 does not fit");
  expectRejected(withU32(preOffset, 1000),
                 "pre-tokenizer length 1000 does not fit");
  expectRejected(withU32(firstTokenOffset, 0xFFFFFFF0),
                 "token 0 length 4294967280 does not fit");
  expectRejected(withU32(scoreCountOffset, 3),
                 "score count 3 is neither 0 nor the token count 4");
  expectRejected(withU32(scoreCountOffset, 1u << 30),
                 "score count 1073741824 does not fit");
  expectRejected(withU32(typeCountOffset, 5),
                 "type count 5 is neither 0 nor the token count 4");
  expectRejected(withU32(typeCountOffset, 1000),
                 "type count 1000 does not fit in the 15 bytes left");
  expectRejected(withU32(mergeCountOffset, 0xFFFFFFFF),
                 "merge count 4294967295 does not fit");
  expectRejected(withU32(firstMergeOffset, 4),
                 "merge 0 length 4 does not fit in the 3 bytes left");
  // A smaller merge count leaves the merge's bytes unread.
  expectRejected(withU32(mergeCountOffset, 0),
                 "7 unread bytes after the vocabulary");
}

TEST(Vocabulary, RejectsOutOfRangeValues) {
  expectRejected(withU32(bosOffset, 4),
                 "bos token 4 is outside the vocabulary of 4");
  expectRejected(withU32(eosOffset, static_cast<uint32_t>(-2)),
                 "eos token -2 is outside the vocabulary of 4");
  std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  bytes[typeCountOffset + 4 + 2] = 7;
  reseal(bytes);
  expectRejected(bytes, "token 2 has unknown type 7");
  bytes = qpaltok::serializeVocabulary(smallVocabulary());
  bytes[kindOffset] = 2;
  reseal(bytes);
  expectRejected(bytes, "unknown tokenizer kind 2");
  bytes = qpaltok::serializeVocabulary(smallVocabulary());
  bytes[flagsOffset] = static_cast<char>(0x84);
  reseal(bytes);
  expectRejected(bytes, "unknown flags 0x84");
}

// Random damage behind a valid checksum: parsing, building and tokenizing
// either succeed or fail with a message.
TEST(Vocabulary, SurvivesRandomDamage) {
  const std::string bytes = qpaltok::serializeVocabulary(smallVocabulary());
  std::mt19937 rng(20240601);
  int parsed = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string damaged = bytes;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits; ++i) {
      size_t at = headerSize + rng() % (damaged.size() - headerSize);
      switch (rng() % 3) {
      case 0:
        damaged[at] = static_cast<char>(rng());
        break;
      case 1:
        damaged.erase(at, 1 + rng() % 4);
        break;
      default:
        damaged.insert(at, 1 + rng() % 4, static_cast<char>(rng() % 8));
        break;
      }
      if (damaged.size() <= headerSize)
        damaged = bytes;
    }
    reseal(damaged);
    qpaltok::Vocabulary vocab;
    std::string error;
    if (!qpaltok::parseVocabulary(damaged.data(), damaged.size(), vocab,
                                  error)) {
      EXPECT_FALSE(error.empty());
      continue;
    }
    ++parsed;
    auto tokenizer = qpaltok::Tokenizer::create(std::move(vocab), error);
    if (!tokenizer) {
      EXPECT_FALSE(error.empty());
      continue;
    }
    for (const char *text : sampleTexts) {
      std::vector<int32_t> ids = tokenizer->encode(text, true, true);
      (void)tokenizer->decode(ids.data(), ids.size(), true);
    }
  }
  // Some damage (a changed score or text byte) still parses.
  EXPECT_GT(parsed, 0);
}

/// Returns the error of Tokenizer::create for `vocab`.
std::string createError(qpaltok::Vocabulary vocab) {
  std::string error;
  auto tokenizer = qpaltok::Tokenizer::create(std::move(vocab), error);
  EXPECT_FALSE(tokenizer);
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  return error;
}

TEST(Vocabulary, CreateValidates) {
  qpaltok::Vocabulary vocab = smallVocabulary();
  vocab.texts.clear();
  vocab.scores.clear();
  vocab.types.clear();
  EXPECT_EQ(createError(vocab), "bad vocabulary size 0");

  vocab = smallVocabulary();
  vocab.scores.pop_back();
  EXPECT_EQ(createError(vocab), "the vocabulary has 3 scores for 4 tokens, "
                                "expected none or one per token");
  vocab = smallVocabulary();
  vocab.types.push_back(qpaltok::TokenType::Normal);
  EXPECT_EQ(createError(vocab), "the vocabulary has 5 token types for 4 "
                                "tokens, expected none or one per token");
  vocab = smallVocabulary();
  vocab.types[1] = static_cast<qpaltok::TokenType>(7);
  EXPECT_EQ(createError(vocab), "token 1 has unknown type 7");
  vocab = smallVocabulary();
  vocab.eos = 4;
  EXPECT_EQ(createError(vocab), "eos token 4 is outside the vocabulary of 4");
  vocab = smallVocabulary();
  vocab.bos = -2;
  EXPECT_EQ(createError(vocab), "bos token -2 is outside the vocabulary of 4");
  vocab = smallVocabulary();
  vocab.preTokenizer = "qwen2";
  EXPECT_EQ(createError(vocab), "unsupported pre-tokenizer 'qwen2'");
  vocab = smallVocabulary();
  vocab.merges.push_back(" ab");
  EXPECT_EQ(createError(vocab), "merge #1 ' ab' has no space");
  vocab = smallVocabulary();
  vocab.kind = qpaltok::Kind::SentencePiece;
  EXPECT_EQ(createError(vocab), "sentencepiece vocabularies have no "
                                "pre-tokenizer, got 'gpt2'");

  // No scores, no types: every token scores 0 and is Normal.
  vocab = smallVocabulary();
  vocab.scores.clear();
  vocab.types.clear();
  vocab.bos = vocab.eos = -1;
  std::string error;
  auto tokenizer = qpaltok::Tokenizer::create(vocab, error);
  ASSERT_TRUE(tokenizer) << error;
  EXPECT_EQ(tokenizer->getTokenType(0), qpaltok::TokenType::Normal);
  EXPECT_EQ(tokenizer->getTokenType(4), qpaltok::TokenType::Undefined);
  EXPECT_FALSE(tokenizer->getBosToken());
  EXPECT_EQ(tokenizer->encode("ab", true), std::vector<int32_t>({3}));
}

} // namespace
