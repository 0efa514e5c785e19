//===- TokenizerTest.cpp - GGUF tokenizers against llama.cpp --------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Small SentencePiece and byte-level BPE vocabularies
// (scripts/oracle/make_tokenizer_fixtures.py) and the ids llama.cpp gives for
// sample texts: spaces, byte fallback, digits, special tokens, empty text.
// The same vocabularies as Hugging Face tokenizer.json files
// (scripts/oracle/make_hf_tokenizer.py, as transformers writes them) give
// the same ids. The real SmolLM2 vocabulary is checked in SmolLM2Test.cpp,
// and its tokenizer.json in test/Model/hf-tokenizer.test.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

void checkAgainstLlamaCpp(
    const char *name, TokenizerKind kind,
    const char *expectedFile = "tokenizer-llamacpp.json") {
  auto model = openModel(inputPath(std::string(name) + "-vocab.gguf"));
  ASSERT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  auto tokenizer = loadTokenizer(**model);
  ASSERT_TRUE(static_cast<bool>(tokenizer)) << toString(tokenizer.takeError());
  EXPECT_EQ((*tokenizer)->getKind(), kind);
  auto expected = readJson(inputPath(expectedFile));
  ASSERT_TRUE(expected);
  const llvm::json::Array *samples = expected->getAsObject()->getArray(name);
  ASSERT_TRUE(samples);
  for (const llvm::json::Value &sample : *samples) {
    const llvm::json::Object &object = *sample.getAsObject();
    std::string text = object.getString("text")->str();
    EXPECT_EQ((*tokenizer)->encode(text), integers(object.getArray("ids")))
        << name << ": '" << text << "'";
    EXPECT_EQ((*tokenizer)->encode(text, (*tokenizer)->getAddBos(), true),
              integers(object.getArray("ids_bos_special")))
        << name << " (BOS, special): '" << text << "'";
  }
}

TEST(Tokenizer, SentencePieceMatchesLlamaCpp) {
  checkAgainstLlamaCpp("spm", TokenizerKind::SentencePiece);
}

TEST(Tokenizer, BytePairEncodingMatchesLlamaCpp) {
  checkAgainstLlamaCpp("bpe", TokenizerKind::BytePairEncoding);
}

/// The tokenizer.json of a GGUF fixture's vocabulary is read into the same
/// vocabulary (texts, types, BOS/EOS, BPE merges) and gives llama.cpp's ids
/// for every sample, with and without BOS and special tokens.
void checkHfJsonAgainstLlamaCpp(
    const char *name, TokenizerKind kind,
    const char *expectedFile = "tokenizer-llamacpp.json") {
  auto model = openModel(inputPath(std::string(name) + "-vocab.gguf"));
  ASSERT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  auto gguf = loadTokenizer(**model);
  ASSERT_TRUE(static_cast<bool>(gguf)) << toString(gguf.takeError());
  auto hf = Tokenizer::fromHfJson(
      inputPath(std::string("hf-tokenizers/") + name + "/tokenizer.json"));
  ASSERT_TRUE(static_cast<bool>(hf)) << toString(hf.takeError());
  const qpaltok::Vocabulary &a = (*gguf)->getVocabulary();
  const qpaltok::Vocabulary &b = (*hf)->getVocabulary();
  EXPECT_EQ(b.kind, kind);
  EXPECT_EQ(b.texts, a.texts);
  EXPECT_EQ(b.types, a.types);
  EXPECT_EQ(b.bos, a.bos);
  EXPECT_EQ(b.eos, a.eos);
  EXPECT_EQ(b.addBos, a.addBos);
  EXPECT_EQ(b.addSpacePrefix, a.addSpacePrefix);
  EXPECT_EQ(b.preTokenizer, a.preTokenizer);
  EXPECT_EQ(b.merges, a.merges);
  auto expected = readJson(inputPath(expectedFile));
  ASSERT_TRUE(expected);
  for (const llvm::json::Value &sample :
       *expected->getAsObject()->getArray(name)) {
    const llvm::json::Object &object = *sample.getAsObject();
    std::string text = object.getString("text")->str();
    EXPECT_EQ((*hf)->encode(text), integers(object.getArray("ids")))
        << name << ": '" << text << "'";
    EXPECT_EQ((*hf)->encode(text, (*hf)->getAddBos(), true),
              integers(object.getArray("ids_bos_special")))
        << name << " (BOS, special): '" << text << "'";
  }
}

/// Llama 3's pre-tokenizer ("llama-bpe"): its regex (case-insensitive
/// contractions, digits in threes, newlines kept with what precedes them)
/// and the whole-word lookup before merging, on a vocabulary with tokens no
/// merge makes (scripts/oracle/make_llama3_tokenizer_fixture.py).
TEST(Tokenizer, Llama3MatchesLlamaCpp) {
  checkAgainstLlamaCpp("llama3", TokenizerKind::BytePairEncoding,
                       "tokenizer-llamacpp-llama3.json");
}

TEST(Tokenizer, HfLlama3MatchesLlamaCpp) {
  checkHfJsonAgainstLlamaCpp("llama3", TokenizerKind::BytePairEncoding,
                             "tokenizer-llamacpp-llama3.json");
}

TEST(Tokenizer, HfSentencePieceMatchesLlamaCpp) {
  checkHfJsonAgainstLlamaCpp("spm", TokenizerKind::SentencePiece);
}

TEST(Tokenizer, HfBytePairEncodingMatchesLlamaCpp) {
  checkHfJsonAgainstLlamaCpp("bpe", TokenizerKind::BytePairEncoding);
}

/// A safetensors checkpoint with a tokenizer.json beside it is tokenized
/// like the GGUF file of its vocabulary.
TEST(Tokenizer, SafetensorsCheckpointReadsItsTokenizerJson) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qpal-hf", dir));
  for (const char *file :
       {"tiny-llama/config.json", "tiny-llama/model.safetensors",
        "hf-tokenizers/tiny/tokenizer.json",
        "hf-tokenizers/tiny/tokenizer_config.json"}) {
    llvm::SmallString<128> to(dir);
    llvm::sys::path::append(to, llvm::sys::path::filename(file));
    ASSERT_FALSE(llvm::sys::fs::copy_file(inputPath(file), to)) << file;
  }
  auto hf = openModel(dir);
  ASSERT_TRUE(static_cast<bool>(hf)) << toString(hf.takeError());
  auto fromJson = loadTokenizer(**hf);
  ASSERT_TRUE(static_cast<bool>(fromJson)) << toString(fromJson.takeError());
  auto gguf = openModel(inputPath("tiny-llama-vocab.gguf"));
  ASSERT_TRUE(static_cast<bool>(gguf));
  auto fromGguf = loadTokenizer(**gguf);
  ASSERT_TRUE(static_cast<bool>(fromGguf));
  const char *text = "the cat sat on the mat, and then it went in.\n";
  EXPECT_EQ((*fromJson)->encode(text), (*fromGguf)->encode(text));
  EXPECT_EQ((*fromJson)->getEosToken(), (*fromGguf)->getEosToken());
  llvm::sys::fs::remove_directories(dir);
}

/// Writes `json` as a tokenizer.json in a fresh directory and returns the
/// reader's error ("" if it reads).
std::string hfError(const std::string &json) {
  llvm::SmallString<128> dir;
  if (llvm::sys::fs::createUniqueDirectory("qpal-hf", dir))
    return "cannot create a directory";
  llvm::SmallString<128> path(dir);
  llvm::sys::path::append(path, "tokenizer.json");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << json;
  }
  auto tokenizer = Tokenizer::fromHfJson(path);
  std::string message = tokenizer ? "" : toString(tokenizer.takeError());
  llvm::sys::fs::remove_directories(dir);
  // Without the file's path.
  std::string prefix = std::string(path) + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size())
                                       : message;
}

TEST(Tokenizer, HfJsonErrorsNameTheProblem) {
  const std::string byteLevel =
      R"("pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, )"
      R"("use_regex": true}, )";
  EXPECT_EQ(hfError("[1, 2]"), "tokenizer.json: not a JSON object");
  EXPECT_EQ(hfError("{\"model\": "), "tokenizer.json: [1:10, byte=10]: "
                                     "Unexpected EOF");
  EXPECT_EQ(hfError(R"({"version": "1.0"})"),
            "tokenizer.json: no \"model\" object");
  EXPECT_EQ(hfError(R"({"model": {"type": "WordPiece", "vocab": {}}})"),
            "tokenizer.json: the model type 'WordPiece' is not supported: "
            "qpal reads BPE and Unigram");
  EXPECT_EQ(hfError(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2},)"
                    R"( "merges": []}})"),
            "tokenizer.json: no token has id 1 (the vocabulary has ids up "
            "to 2)");
  EXPECT_EQ(hfError(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1},)"
                    R"( "merges": []}, "added_tokens": [{"id": 1, )"
                    R"("content": "<s>", "special": true}]})"),
            "tokenizer.json: id 1 is both 'b' and '<s>'");
  EXPECT_EQ(hfError(R"({"model": {"type": "BPE", "vocab": {"a": -3}}})"),
            "tokenizer.json: token 'a' has id -3, outside [0, 4194304)");
  EXPECT_EQ(hfError(R"({"model": {"type": "BPE", "vocab": {"a": 0}, )"
                    R"("merges": []}, "pre_tokenizer": {"type": )"
                    R"("Whitespace"}})"),
            "tokenizer.json: the pre-tokenizer {\"type\":\"Whitespace\"} "
            "is not one qpal reproduces: a byte-level BPE needs ByteLevel "
            "with GPT-2's regex, alone or after Digits(individual_digits), or "
            "Llama 3's regex");
  EXPECT_EQ(hfError(R"({"normalizer": {"type": "NFC"}, "model": {"type": )"
                    R"("BPE", "vocab": {"a": 0}, "merges": []}})"),
            "tokenizer.json: a byte-level BPE tokenizer with the normalizer "
            "{\"type\":\"NFC\"} is not one qpal reproduces (llama.cpp "
            "runs none)");
  EXPECT_EQ(hfError("{" + byteLevel +
                    R"("model": {"type": "BPE", "vocab": {"a": 0}, )"
                    R"("merges": [["a", "b", "c"]]}})"),
            "tokenizer.json: merge 0 is neither \"left right\" nor "
            "[\"left\", \"right\"]: [\"a\",\"b\",\"c\"]");
  // qpaltok's own checks come through with the same prefix.
  EXPECT_EQ(hfError("{" + byteLevel +
                    R"("model": {"type": "BPE", "vocab": {"a": 0}, )"
                    R"("merges": ["a"]}})"),
            "tokenizer.json: merge 0 is neither \"left right\" nor "
            "[\"left\", \"right\"]: \"a\"");
  // SentencePiece forms.
  EXPECT_EQ(hfError(R"({"model": {"type": "BPE", "byte_fallback": true, )"
                    R"("vocab": {"a": 0}, "merges": []}})"),
            "tokenizer.json: a SentencePiece vocabulary (byte_fallback or "
            "Unigram) needs a normalizer or a Metaspace pre-tokenizer that "
            "marks spaces with \"\\u2581\"");
  const std::string metaspace =
      R"("pre_tokenizer": {"type": "Metaspace", "replacement": )"
      "\"\xe2\x96\x81\""
      R"(, "prepend_scheme": "first", "split": false}, )";
  EXPECT_EQ(hfError("{" + metaspace +
                    R"("model": {"type": "BPE", "byte_fallback": true, )"
                    R"("unk_token": "<unk>", "vocab": {"a": 0}, )"
                    R"("merges": []}})"),
            "tokenizer.json: the unk_token '<unk>' is not in the vocabulary");
  EXPECT_EQ(hfError("{" + metaspace +
                    R"("model": {"type": "BPE", "byte_fallback": true, )"
                    R"("vocab": {"a": 0, "b": 1}, "merges": ["a b"]}})"),
            "tokenizer.json: merge 0 makes 'ab', which is not in the "
            "vocabulary");
  EXPECT_EQ(hfError("{" + metaspace +
                    R"("model": {"type": "Unigram", "unk_id": 0, )"
                    R"("vocab": [["a", -1.0], ["b"]]}})"),
            "tokenizer.json: Unigram vocabulary entry 1 is not [\"piece\", "
            "score]: [\"b\"]");
  // A Unigram vocabulary with a Metaspace pre-tokenizer reads.
  EXPECT_EQ(hfError("{" + metaspace +
                    R"("model": {"type": "Unigram", "unk_id": 0, )"
                    R"("vocab": [["<unk>", 0.0], ["a", -1.0]]}})"),
            "");
}

TEST(Tokenizer, DecodeRoundTrips) {
  for (const char *name : {"spm", "bpe"}) {
    auto model = openModel(inputPath(std::string(name) + "-vocab.gguf"));
    ASSERT_TRUE(static_cast<bool>(model));
    auto tokenizer = loadTokenizer(**model);
    ASSERT_TRUE(static_cast<bool>(tokenizer));
    for (const char *text :
         {"Hello world", "Qu\xc3\xa9 pasa? \xe2\x80\x94 ZZZ 123",
          "the\nworld\t\tand\n\n"})
      EXPECT_EQ((*tokenizer)->decode((*tokenizer)->encode(text)), text) << name;
  }
}

TEST(Tokenizer, Metadata) {
  auto model = openModel(inputPath("bpe-vocab.gguf"));
  ASSERT_TRUE(static_cast<bool>(model));
  auto tokenizer = loadTokenizer(**model);
  ASSERT_TRUE(static_cast<bool>(tokenizer));
  EXPECT_EQ((*tokenizer)->getPreTokenizer(), "smollm");
  EXPECT_FALSE((*tokenizer)->getAddBos());
  EXPECT_EQ((*tokenizer)->getTokenType(1), TokenType::Control);
  EXPECT_EQ((*tokenizer)->lookup("<|im_start|>"), 1);
  // Control tokens are only recognized on request.
  EXPECT_EQ((*tokenizer)->encode("<|im_start|>", false, true),
            std::vector<int32_t>({1}));
  EXPECT_GT((*tokenizer)->encode("<|im_start|>").size(), 1u);
}

TEST(Tokenizer, HostileVocabularies) {
  // A safetensors checkpoint without a tokenizer.json.
  auto hf = openModel(inputPath("tiny-llama"));
  ASSERT_TRUE(static_cast<bool>(hf));
  auto none = loadTokenizer(**hf);
  ASSERT_FALSE(static_cast<bool>(none));
  EXPECT_NE(toString(none.takeError())
                .find("no tokenizer: a safetensors model's is the "
                      "tokenizer.json beside it"),
            std::string::npos);
  // A GGUF file without tokenizer metadata.
  auto file = GgufFile::open(inputPath("dequant.gguf"));
  ASSERT_TRUE(static_cast<bool>(file));
  auto missing = Tokenizer::fromGguf(**file);
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(toString(missing.takeError())
                .find("missing metadata 'tokenizer.ggml.model'"),
            std::string::npos);
}

} // namespace
