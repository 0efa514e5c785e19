//===- Tokenizer.h - Tokenizers embedded in GGUF files ----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The two vocabularies Llama-family GGUF files carry, reproducing llama.cpp's
// token ids exactly:
//
// - `tokenizer.ggml.model = "gpt2"`: byte-level BPE. The text is split by
//   the pre-tokenizer named in `tokenizer.ggml.pre` (GPT-2's regex, preceded
//   for "smollm"/"starcoder"-style vocabularies by a split into single
//   digits), each piece is mapped to the GPT-2 byte alphabet and merged by
//   `tokenizer.ggml.merges` rank.
// - `tokenizer.ggml.model = "llama"`: SentencePiece. Spaces become U+2581, a
//   space is prefixed when `add_space_prefix`, characters are merged greedily
//   by `tokenizer.ggml.scores`, and characters outside the vocabulary fall
//   back to `<0xXX>` byte tokens.
//
// User-defined tokens are always matched literally before that; control
// tokens (`<|im_start|>`) only when the caller asks to parse special tokens.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_TOKENIZER_H
#define QPAL_MODEL_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qpal::model {

class GgufFile;
class ModelFile;

/// The vocabulary's algorithm.
enum class TokenizerKind { BytePairEncoding, SentencePiece };

/// The GGUF token types (`tokenizer.ggml.token_type`).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

/// A tokenizer built from a GGUF vocabulary.
class Tokenizer {
public:
  /// Builds the tokenizer described by `file`'s `tokenizer.ggml.*` metadata.
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromGguf(const GgufFile &file);
  ~Tokenizer();

  /// Returns the algorithm.
  TokenizerKind getKind() const { return kind; }
  /// Returns the pre-tokenizer name (`tokenizer.ggml.pre`; empty for
  /// SentencePiece).
  llvm::StringRef getPreTokenizer() const { return preTokenizer; }
  /// Returns the number of tokens.
  int64_t getVocabSize() const { return static_cast<int64_t>(texts.size()); }
  /// Returns the beginning-of-sequence token, if the vocabulary has one.
  std::optional<int32_t> getBosToken() const { return bos; }
  /// Returns the end-of-sequence token, if the vocabulary has one.
  std::optional<int32_t> getEosToken() const { return eos; }
  /// Returns whether the model expects a BOS token before a prompt.
  bool getAddBos() const { return addBos; }
  /// Returns the text of token `id` as stored (byte-level alphabet for BPE).
  llvm::StringRef getTokenText(int32_t id) const;
  /// Returns the type of token `id`.
  TokenType getTokenType(int32_t id) const;
  /// Returns the id of the token whose stored text is `text`.
  std::optional<int32_t> lookup(llvm::StringRef text) const;

  /// Tokenizes `text`. With `addBos`, prepends the BOS token (if any); with
  /// `parseSpecial`, control tokens written in the text are recognized.
  std::vector<int32_t> encode(llvm::StringRef text, bool addBos = false,
                              bool parseSpecial = false) const;
  /// Returns the text of `tokens`; control tokens are skipped unless
  /// `includeSpecial`.
  std::string decode(llvm::ArrayRef<int32_t> tokens,
                     bool includeSpecial = false) const;

private:
  Tokenizer() = default;
  void encodeBpe(llvm::StringRef text, std::vector<int32_t> &out) const;
  void encodeBpeWord(llvm::StringRef word, std::vector<int32_t> &out) const;
  void encodeSentencePiece(llvm::StringRef text, bool prefixSpace,
                           std::vector<int32_t> &out) const;
  std::vector<std::string> preTokenize(llvm::StringRef text) const;

  TokenizerKind kind = TokenizerKind::BytePairEncoding;
  std::string preTokenizer;
  bool splitDigits = false;
  bool addBos = false;
  bool addSpacePrefix = false;
  std::optional<int32_t> bos, eos;
  std::vector<std::string> texts;
  std::vector<float> scores;
  std::vector<TokenType> types;
  llvm::StringMap<int32_t> textToId;
  llvm::StringMap<int32_t> mergeRanks; // "left right" -> rank
  /// Tokens matched literally before tokenization, longest first.
  std::vector<int32_t> specialTokens;
};

/// Builds the tokenizer of `model` (the vocabulary embedded in a GGUF file).
llvm::Expected<std::unique_ptr<Tokenizer>>
loadTokenizer(const ModelFile &model);

} // namespace qpal::model

#endif // QPAL_MODEL_TOKENIZER_H
