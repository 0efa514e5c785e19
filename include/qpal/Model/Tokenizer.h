//===- Tokenizer.h - Tokenizers of GGUF files and tokenizer.json -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The tokenizer of a GGUF file: `tokenizer.ggml.model` ("gpt2": byte-level
// BPE; "llama": SentencePiece), `tokenizer.ggml.tokens`, `.scores`,
// `.token_type`, `.merges`, `.pre`, `.bos_token_id`, `.eos_token_id`,
// `.add_bos_token` and `.add_space_prefix` are read into a
// qpaltok::Vocabulary, and the LLVM-free qpaltok::Tokenizer
// (runtime/tokenizer) does the work, reproducing llama.cpp's token ids
// exactly. This class adapts it to LLVM types.
//
// A safetensors model's tokenizer is Hugging Face's `tokenizer.json` beside
// it (HfTokenizer.cpp): byte-level BPE and SentencePiece-style (BPE with
// byte fallback, or Unigram) vocabularies map onto the same
// qpaltok::Vocabulary as the GGUF file of the same vocabulary, and give the
// same ids.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_TOKENIZER_H
#define QPAL_MODEL_TOKENIZER_H

#include "qpaltok/Tokenizer.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
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
using TokenizerKind = qpaltok::Kind;

/// The GGUF token types (`tokenizer.ggml.token_type`).
using TokenType = qpaltok::TokenType;

/// A tokenizer built from a GGUF vocabulary or a tokenizer.json.
class Tokenizer {
public:
  /// Builds the tokenizer described by `file`'s `tokenizer.ggml.*` metadata.
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromGguf(const GgufFile &file);
  /// Builds the tokenizer of a Hugging Face `tokenizer.json` at `path`
  /// (readHfTokenizerJson).
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromHfJson(llvm::StringRef path);
  ~Tokenizer();

  /// Returns the vocabulary read from the file: `scores` and `types` are
  /// empty when the file has none, `preTokenizer` is "gpt-2" for a BPE file
  /// without `tokenizer.ggml.pre`.
  const qpaltok::Vocabulary &getVocabulary() const {
    return impl->getVocabulary();
  }
  /// Returns the algorithm.
  TokenizerKind getKind() const { return impl->getKind(); }
  /// Returns the pre-tokenizer name (`tokenizer.ggml.pre`; empty for
  /// SentencePiece).
  llvm::StringRef getPreTokenizer() const { return impl->getPreTokenizer(); }
  /// Returns the number of tokens.
  int64_t getVocabSize() const { return impl->getVocabSize(); }
  /// Returns the beginning-of-sequence token, if the vocabulary has one.
  std::optional<int32_t> getBosToken() const { return impl->getBosToken(); }
  /// Returns the end-of-sequence token, if the vocabulary has one.
  std::optional<int32_t> getEosToken() const { return impl->getEosToken(); }
  /// Returns whether the model expects a BOS token before a prompt.
  bool getAddBos() const { return impl->getAddBos(); }
  /// Returns the text of token `id` as stored (byte-level alphabet for BPE).
  llvm::StringRef getTokenText(int32_t id) const {
    return impl->getTokenText(id);
  }
  /// Returns the type of token `id`.
  TokenType getTokenType(int32_t id) const { return impl->getTokenType(id); }
  /// Returns the id of the token whose stored text is `text`.
  std::optional<int32_t> lookup(llvm::StringRef text) const {
    return impl->lookup(text);
  }

  /// Tokenizes `text`. With `addBos`, prepends the BOS token (if any); with
  /// `parseSpecial`, control tokens written in the text are recognized.
  /// Bytes no token spells are dropped; `dropped`, if given, counts them.
  std::vector<int32_t> encode(llvm::StringRef text, bool addBos = false,
                              bool parseSpecial = false,
                              size_t *dropped = nullptr) const {
    return impl->encode(text, addBos, parseSpecial, dropped);
  }
  /// Returns the text of `tokens`; control tokens are skipped unless
  /// `includeSpecial`.
  std::string decode(llvm::ArrayRef<int32_t> tokens,
                     bool includeSpecial = false) const {
    return impl->decode(tokens.data(), tokens.size(), includeSpecial);
  }

private:
  explicit Tokenizer(std::unique_ptr<qpaltok::Tokenizer> impl)
      : impl(std::move(impl)) {}

  std::unique_ptr<qpaltok::Tokenizer> impl;
};

/// Reads a Hugging Face `tokenizer.json` into the vocabulary of the GGUF
/// file that holds the same tokenizer:
///
/// - model `BPE` with a ByteLevel pre-tokenizer (GPT-2's regex, after
///   `Digits(individual_digits)` or not; or Llama 3's regex in a Split,
///   with `ignore_merges`): byte-level BPE, its merges;
/// - model `BPE` with `byte_fallback` (Llama-2 style: a Prepend("\u2581") +
///   Replace(" ", "\u2581") normalizer, or a Metaspace pre-tokenizer):
///   SentencePiece, each token scored -(rank of the first merge that makes
///   it), so that merges happen in the file's order;
/// - model `Unigram`: SentencePiece with the file's scores (as llama.cpp
///   runs such vocabularies).
///
/// Added tokens are control (special) or user-defined tokens; a
/// TemplateProcessing post-processor that starts with a special token makes
/// it the BOS, added to prompts. `tokenizer_config.json` beside the file
/// names the BOS/EOS (`bos_token`, `eos_token`, `add_bos_token`), else
/// `config.json` (`bos_token_id`, `eos_token_id`). Anything qpal would
/// tokenize differently (another normalizer, pre-tokenizer or model) is an
/// error that names it.
llvm::Expected<qpaltok::Vocabulary> readHfTokenizerJson(llvm::StringRef path);
/// Reads `contents` as the tokenizer.json at `path` (messages name it; its
/// directory is searched for the configuration files).
llvm::Expected<qpaltok::Vocabulary>
readHfTokenizerJson(llvm::StringRef contents, llvm::StringRef path);

/// Builds the tokenizer of `model`: the vocabulary embedded in a GGUF file,
/// or the `tokenizer.json` beside a safetensors model.
llvm::Expected<std::unique_ptr<Tokenizer>>
loadTokenizer(const ModelFile &model);

} // namespace qpal::model

#endif // QPAL_MODEL_TOKENIZER_H
