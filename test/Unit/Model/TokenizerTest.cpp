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
// The real SmolLM2 vocabulary is checked in SmolLM2Test.cpp.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"

#include "gtest/gtest.h"

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

void checkAgainstLlamaCpp(const char *name, TokenizerKind kind) {
  auto model = openModel(inputPath(std::string(name) + "-vocab.gguf"));
  ASSERT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  auto tokenizer = loadTokenizer(**model);
  ASSERT_TRUE(static_cast<bool>(tokenizer)) << toString(tokenizer.takeError());
  EXPECT_EQ((*tokenizer)->getKind(), kind);
  auto expected = readJson(inputPath("tokenizer-llamacpp.json"));
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
  // A safetensors checkpoint carries no GGUF vocabulary.
  auto hf = openModel(inputPath("tiny-llama"));
  ASSERT_TRUE(static_cast<bool>(hf));
  auto none = loadTokenizer(**hf);
  ASSERT_FALSE(static_cast<bool>(none));
  EXPECT_NE(toString(none.takeError()).find("only GGUF files carry"),
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
