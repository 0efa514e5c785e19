//===- Tokenizer.h - GGUF vocabularies without LLVM -------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The two vocabularies Llama-family GGUF files carry, reproducing llama.cpp's
// token ids exactly:
//
// - Kind::BytePairEncoding (`tokenizer.ggml.model = "gpt2"`): byte-level BPE.
//   The text is split by the pre-tokenizer (GPT-2's regex, preceded for
//   "smollm"/"starcoder"-style vocabularies by a split into single digits),
//   each piece is mapped to the GPT-2 byte alphabet and merged by merge rank.
// - Kind::SentencePiece (`tokenizer.ggml.model = "llama"`): spaces become
//   U+2581, a space is prefixed when `addSpacePrefix`, characters are merged
//   greedily by score, and characters outside the vocabulary fall back to
//   `<0xXX>` byte tokens.
//
// User-defined tokens are always matched literally before that; control
// tokens (`<|im_start|>`) only when the caller asks to parse special tokens.
//
// The library is C++17 and the standard library only, so that programs that
// link neither LLVM nor MLIR can tokenize. The compiler reads a GGUF file's
// `tokenizer.ggml.*` keys into a Vocabulary (qpal::model::Tokenizer) and may
// store it with serializeVocabulary; a runtime reads it back with
// parseVocabulary. The serialized form, all integers little-endian:
//
//   header   8 bytes  magic "QPALTOK\0"
//            u32      format version (1)
//            u32      CRC-32 (IEEE, as zlib) of the payload
//            u64      payload size in bytes
//   payload  u8       kind (0 BytePairEncoding, 1 SentencePiece)
//            u8       flags (1 addBos, 2 addSpacePrefix)
//            i32 i32  bos, eos (-1: none)
//            str      preTokenizer
//            u32      token count N, then N str (texts)
//            u32      score count (0 or N), then that many f32
//            u32      type count (0 or N), then that many u8
//            u32      merge count, then that many str
//
// where str is a u32 byte count followed by the bytes.
//
//===----------------------------------------------------------------------===//

#ifndef QPALTOK_TOKENIZER_H
#define QPALTOK_TOKENIZER_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qpaltok {

/// The vocabulary's algorithm.
enum class Kind { BytePairEncoding, SentencePiece };

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

/// Everything a tokenizer is built from (what GGUF's tokenizer.ggml.* keys
/// hold).
struct Vocabulary {
  /// The algorithm (`tokenizer.ggml.model`).
  Kind kind = Kind::BytePairEncoding;
  /// The BPE pre-tokenizer (`tokenizer.ggml.pre`); "" for SentencePiece.
  std::string preTokenizer;
  /// Whether the model expects a BOS token before a prompt.
  bool addBos = false;
  /// Whether SentencePiece prefixes a space to text that starts a prompt or
  /// follows a special token (ignored for BPE).
  bool addSpacePrefix = false;
  /// The beginning- and end-of-sequence tokens; -1: none.
  int32_t bos = -1, eos = -1;
  /// The token texts as stored (byte-level alphabet for BPE).
  std::vector<std::string> texts;
  /// Empty (all 0) or one score per token.
  std::vector<float> scores;
  /// Empty (all Normal) or one type per token.
  std::vector<TokenType> types;
  /// The BPE merges, "left right", rank = index (ignored for SentencePiece).
  std::vector<std::string> merges;
};

/// Returns `vocab` as a versioned, checksummed little-endian byte string (the
/// format above); parseVocabulary reads it back. Token texts and merges must
/// be shorter than 4 GiB.
std::string serializeVocabulary(const Vocabulary &vocab);

/// Parses the `size` bytes at `data` written by serializeVocabulary into
/// `out`. On failure, returns false, leaves `out` unchanged and sets `error`
/// to one line naming the problem (bad magic, unsupported version, truncated
/// at byte N, bad checksum, a count that does not fit, ids out of range...).
/// Every count is checked against the bytes left, so that hostile input
/// cannot crash, hang or allocate more than a small multiple of `size`.
bool parseVocabulary(const void *data, size_t size, Vocabulary &out,
                     std::string &error);

/// A tokenizer built from a Vocabulary.
class Tokenizer {
public:
  /// Validates `vocab` (sizes agree, bos/eos in range, types known, a
  /// supported pre-tokenizer, merges well formed) and builds its tokenizer;
  /// returns nullptr and sets `error` to one line on failure.
  static std::unique_ptr<Tokenizer> create(Vocabulary vocab,
                                           std::string &error);
  ~Tokenizer();
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;

  /// Returns the vocabulary the tokenizer was built from.
  const Vocabulary &getVocabulary() const { return vocab; }
  /// Returns the algorithm.
  Kind getKind() const { return vocab.kind; }
  /// Returns the pre-tokenizer name (empty for SentencePiece).
  const std::string &getPreTokenizer() const { return vocab.preTokenizer; }
  /// Returns the number of tokens.
  int64_t getVocabSize() const {
    return static_cast<int64_t>(vocab.texts.size());
  }
  /// Returns the beginning-of-sequence token, if the vocabulary has one.
  std::optional<int32_t> getBosToken() const;
  /// Returns the end-of-sequence token, if the vocabulary has one.
  std::optional<int32_t> getEosToken() const;
  /// Returns whether the model expects a BOS token before a prompt.
  bool getAddBos() const { return vocab.addBos; }
  /// Returns the text of token `id` as stored (byte-level alphabet for BPE);
  /// empty for an id outside the vocabulary.
  std::string_view getTokenText(int32_t id) const;
  /// Returns the type of token `id`; Undefined for an id outside the
  /// vocabulary.
  TokenType getTokenType(int32_t id) const;
  /// Returns the id of the token whose stored text is `text` (the last one,
  /// if several are).
  std::optional<int32_t> lookup(std::string_view text) const;

  /// Tokenizes `text`. With `addBos`, prepends the BOS token (if any); with
  /// `parseSpecial`, control tokens written in the text are recognized.
  /// Bytes that no token spells (a vocabulary without byte tokens) are
  /// dropped, as llama.cpp drops them; `dropped`, if given, is set to how
  /// many were, so that a tool can say so.
  std::vector<int32_t> encode(std::string_view text, bool addBos = false,
                              bool parseSpecial = false,
                              size_t *dropped = nullptr) const;
  /// Returns the text of the `count` tokens at `tokens`; ids outside the
  /// vocabulary are skipped, and so are control and unknown tokens unless
  /// `includeSpecial`.
  std::string decode(const int32_t *tokens, size_t count,
                     bool includeSpecial = false) const;

private:
  /// Takes a vocabulary that create has validated.
  explicit Tokenizer(Vocabulary vocab);
  /// Returns the score of token `id` (0 without scores).
  float getScore(int32_t id) const;
  /// Splits `text` into words by GPT-2's regex, after splitting off digits
  /// if `splitDigits`, or by Llama 3's regex if `llama3`.
  std::vector<std::string> preTokenize(std::string_view text) const;
  /// Appends the BPE ids of `text`; counts the bytes no token spells in
  /// `dropped`.
  void encodeBpe(std::string_view text, std::vector<int32_t> &out,
                 size_t &dropped) const;
  /// Appends the BPE ids of one pre-tokenized word, its bytes mapped to the
  /// GPT-2 alphabet.
  void encodeBpeWord(std::string_view mapped, std::vector<int32_t> &out,
                     size_t &dropped) const;
  /// Appends the SentencePiece ids of `text`, preceded by a space if
  /// `prefixSpace`.
  void encodeSentencePiece(std::string_view text, bool prefixSpace,
                           std::vector<int32_t> &out, size_t &dropped) const;

  /// The maps from token texts to ids and from merges to ranks.
  struct Index;

  Vocabulary vocab;
  /// Whether the pre-tokenizer splits digits off before GPT-2's regex.
  bool splitDigits = false;
  /// Whether the pre-tokenizer is Llama 3's regex, whose words are looked
  /// up whole before they are merged (llama.cpp's `ignore_merges`).
  bool llama3 = false;
  /// The maps; their keys view the strings of `vocab`.
  std::unique_ptr<Index> index;
  /// Tokens matched literally before tokenization, longest first.
  std::vector<int32_t> specialTokens;
};

} // namespace qpaltok

#endif // QPALTOK_TOKENIZER_H
