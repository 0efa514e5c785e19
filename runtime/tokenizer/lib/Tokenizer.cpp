//===- Tokenizer.cpp - BPE and SentencePiece tokenizers -------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Follows llama.cpp's llama-vocab.cpp and unicode.cpp: the same merge order
// (lowest rank first, leftmost on ties), the same SentencePiece bigram order
// (highest score first, leftmost on ties), the same GPT-2 pre-tokenizer
// state machine, the same UTF-8 error handling.
//
//===----------------------------------------------------------------------===//

#include "qpaltok/Tokenizer.h"

#include "StringIdMap.h"
#include "Unicode.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <queue>
#include <unordered_map>

using namespace qpaltok;
using namespace qpaltok::detail;

namespace {

/// Pre-tokenizers that split digits off first, then apply GPT-2's regex.
constexpr std::string_view digitSplittingPreTokenizers[] = {
    "smollm",    "starcoder", "refact", "command-r",
    "codeshell", "exaone",    "minerva"};
/// Pre-tokenizers that are GPT-2's regex alone.
constexpr std::string_view gpt2PreTokenizers[] = {"gpt-2", "gpt2", "mpt",
                                                  "olmo", "jais"};
/// Pre-tokenizers that are Llama 3's regex (llama.cpp's LLAMA3 type).
constexpr std::string_view llama3PreTokenizers[] = {"llama3", "llama-v3",
                                                    "llama-bpe"};

template <size_t N>
bool contains(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

/// One symbol of a word being merged: a byte range and its neighbours.
struct Symbol {
  int prev, next;
  const char *text;
  size_t size;
};

/// Splits `text` into one symbol per UTF-8 character, linked in order (a
/// truncated last character is one short symbol). The symbols point into
/// `text`, which must outlive them.
std::vector<Symbol> splitUtf8Symbols(std::string_view text) {
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < text.size();) {
    size_t length = std::min(text.size() - offset,
                             getUtf8Length(static_cast<uint8_t>(text[offset])));
    int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, -1, text.data() + offset, length});
    offset += length;
    if (offset < text.size())
      symbols.back().next = index + 1;
  }
  return symbols;
}

/// Returns the value of the hexadecimal digit `c`, or -1.
int hexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

} // namespace

struct Tokenizer::Index {
  /// Token text -> id.
  StringIdMap textToId;
  /// "left right" -> merge rank (BPE).
  StringIdMap mergeRanks;
};

Tokenizer::Tokenizer(Vocabulary vocab)
    : vocab(std::move(vocab)), index(std::make_unique<Index>()) {}

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::create(Vocabulary vocab,
                                             std::string &error) {
  size_t size = vocab.texts.size();
  if (size == 0 ||
      size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    error = "bad vocabulary size " + std::to_string(size);
    return nullptr;
  }
  if (vocab.kind != Kind::BytePairEncoding &&
      vocab.kind != Kind::SentencePiece) {
    error = "unknown tokenizer kind " +
            std::to_string(static_cast<int>(vocab.kind));
    return nullptr;
  }
  if (!vocab.scores.empty() && vocab.scores.size() != size) {
    error = "the vocabulary has " + std::to_string(vocab.scores.size()) +
            " scores for " + std::to_string(size) +
            " tokens, expected none or one per token";
    return nullptr;
  }
  if (!vocab.types.empty() && vocab.types.size() != size) {
    error = "the vocabulary has " + std::to_string(vocab.types.size()) +
            " token types for " + std::to_string(size) +
            " tokens, expected none or one per token";
    return nullptr;
  }
  for (size_t i = 0; i < vocab.types.size(); ++i) {
    int32_t type = static_cast<int32_t>(vocab.types[i]);
    if (type < 0 || type > 6) {
      error = "token " + std::to_string(i) + " has unknown type " +
              std::to_string(type);
      return nullptr;
    }
  }
  const std::pair<const char *, int32_t> specialIds[] = {{"bos", vocab.bos},
                                                         {"eos", vocab.eos}};
  for (auto [name, id] : specialIds) {
    if (id < -1 || id >= static_cast<int64_t>(size)) {
      error = std::string(name) + " token " + std::to_string(id) +
              " is outside the vocabulary of " + std::to_string(size);
      return nullptr;
    }
  }

  bool splitDigits = false, llama3 = false;
  if (vocab.kind == Kind::BytePairEncoding) {
    if (contains(digitSplittingPreTokenizers, vocab.preTokenizer)) {
      splitDigits = true;
    } else if (contains(llama3PreTokenizers, vocab.preTokenizer)) {
      llama3 = true;
    } else if (!contains(gpt2PreTokenizers, vocab.preTokenizer)) {
      error = "unsupported pre-tokenizer '" + vocab.preTokenizer + "'";
      return nullptr;
    }
    for (size_t i = 0; i < vocab.merges.size(); ++i) {
      // llama.cpp splits at the first space after the first character.
      if (vocab.merges[i].find(' ', 1) == std::string::npos) {
        error = "merge #" + std::to_string(i) + " '" + vocab.merges[i] +
                "' has no space";
        return nullptr;
      }
    }
  } else if (!vocab.preTokenizer.empty()) {
    error = "sentencepiece vocabularies have no pre-tokenizer, got '" +
            vocab.preTokenizer + "'";
    return nullptr;
  }

  // The maps view the strings of the tokenizer's own copy of the vocabulary,
  // which never changes after this point.
  std::unique_ptr<Tokenizer> tok(new Tokenizer(std::move(vocab)));
  const Vocabulary &v = tok->vocab;
  tok->splitDigits = splitDigits;
  tok->llama3 = llama3;
  tok->index->textToId.reserve(size);
  // Later duplicates of a text win, as in llama.cpp; earlier ones of a merge.
  for (size_t i = 0; i < size; ++i)
    tok->index->textToId.insert(v.texts[i], static_cast<int32_t>(i),
                                /*overwrite=*/true);
  if (v.kind == Kind::BytePairEncoding) {
    tok->index->mergeRanks.reserve(v.merges.size());
    for (size_t i = 0; i < v.merges.size(); ++i)
      tok->index->mergeRanks.insert(v.merges[i], static_cast<int32_t>(i),
                                    /*overwrite=*/false);
  }
  for (size_t i = 0; i < size; ++i) {
    TokenType type = tok->getTokenType(static_cast<int32_t>(i));
    if ((type == TokenType::UserDefined || type == TokenType::Control) &&
        !v.texts[i].empty())
      tok->specialTokens.push_back(static_cast<int32_t>(i));
  }
  std::sort(tok->specialTokens.begin(), tok->specialTokens.end(),
            [&](int32_t a, int32_t b) {
              size_t sizeA = v.texts[a].size(), sizeB = v.texts[b].size();
              return sizeA != sizeB ? sizeA > sizeB : a < b;
            });
  return tok;
}

std::optional<int32_t> Tokenizer::getBosToken() const {
  if (vocab.bos < 0)
    return std::nullopt;
  return vocab.bos;
}

std::optional<int32_t> Tokenizer::getEosToken() const {
  if (vocab.eos < 0)
    return std::nullopt;
  return vocab.eos;
}

std::string_view Tokenizer::getTokenText(int32_t id) const {
  if (id < 0 || id >= getVocabSize())
    return {};
  return vocab.texts[id];
}

TokenType Tokenizer::getTokenType(int32_t id) const {
  if (id < 0 || id >= getVocabSize())
    return TokenType::Undefined;
  return vocab.types.empty() ? TokenType::Normal : vocab.types[id];
}

float Tokenizer::getScore(int32_t id) const {
  return vocab.scores.empty() ? 0.0f : vocab.scores[id];
}

std::optional<int32_t> Tokenizer::lookup(std::string_view text) const {
  return index->textToId.find(text);
}

namespace {
/// Cuts code points [begin, end) into words: `cut(e)` ends the current word
/// at e (nothing if it would be empty).
struct WordCutter {
  const std::vector<uint32_t> &cps;
  std::vector<std::string> &words;
  size_t prevEnd;

  void cut(size_t wordEnd) {
    if (wordEnd > prevEnd) {
      std::string word;
      for (size_t i = prevEnd; i < wordEnd; ++i)
        appendUtf8(cps[i], word);
      words.push_back(std::move(word));
    }
    prevEnd = wordEnd;
  }
};
} // namespace

/// The length of the contraction 's|'t|'re|'ve|'m|'ll|'d at `pos` (ASCII
/// case-insensitive with `ignoreCase`) within [pos, end), or 0.
static size_t contractionLength(const std::vector<uint32_t> &cps, size_t pos,
                                size_t end, bool ignoreCase) {
  if (cps[pos] != '\'' || pos + 1 >= end)
    return 0;
  auto at = [&](size_t i) {
    uint32_t cp = cps[i];
    return ignoreCase && cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
  };
  uint32_t next = at(pos + 1);
  if (next == 's' || next == 't' || next == 'm' || next == 'd')
    return 2;
  if (pos + 2 >= end)
    return 0;
  uint32_t nextNext = at(pos + 2);
  return (next == 'r' && nextNext == 'e') || (next == 'v' && nextNext == 'e') ||
                 (next == 'l' && nextNext == 'l')
             ? 3
             : 0;
}

/// Llama 3's regex
///   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
///    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
/// as llama.cpp's hand-written matcher (unicode_regex_split_custom_llama3).
static std::vector<std::string> splitLlama3(const std::vector<uint32_t> &cps) {
  std::vector<std::string> words;
  const size_t end = cps.size();
  constexpr uint32_t kOutOfRange = 0xFFFFFFFFu;
  auto cpAt = [&](size_t pos) { return pos < end ? cps[pos] : kOutOfRange; };
  auto isLetterAt = [&](size_t pos) { return pos < end && isLetter(cps[pos]); };
  auto isNumberAt = [&](size_t pos) { return pos < end && isNumber(cps[pos]); };
  auto isSpaceAt = [&](size_t pos) {
    return pos < end && isWhitespace(cps[pos]);
  };
  auto isNewline = [](uint32_t cp) { return cp == '\r' || cp == '\n'; };
  WordCutter cutter{cps, words, 0};
  auto addWord = [&](size_t wordEnd) { cutter.cut(wordEnd); };
  for (size_t pos = 0; pos < end;) {
    uint32_t cp = cps[pos];
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (size_t length = contractionLength(cps, pos, end, /*ignoreCase=*/true)) {
      pos += length;
      addWord(pos);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!isNewline(cp) && !isNumber(cp) &&
        (isLetter(cp) || isLetterAt(pos + 1))) {
      ++pos;
      while (isLetterAt(pos))
        ++pos;
      addWord(pos);
      continue;
    }
    // \p{N}{1,3}
    if (isNumber(cp)) {
      size_t first = pos;
      while (isNumberAt(pos))
        if (++pos - first >= 3) {
          addWord(pos);
          first = pos;
        }
      addWord(pos);
      continue;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    auto isOther = [&](size_t at) {
      return at < end && !isWhitespace(cps[at]) && !isLetter(cps[at]) &&
             !isNumber(cps[at]);
    };
    if (isOther(cp == ' ' ? pos + 1 : pos)) {
      pos += cp == ' ';
      while (isOther(pos))
        ++pos;
      while (isNewline(cpAt(pos)))
        ++pos;
      addWord(pos);
      continue;
    }
    size_t spaces = 0, lastNewlineEnd = 0;
    while (isSpaceAt(pos + spaces)) {
      if (isNewline(cps[pos + spaces]))
        lastNewlineEnd = pos + spaces + 1;
      ++spaces;
    }
    // \s*[\r\n]+
    if (lastNewlineEnd > 0) {
      pos = lastNewlineEnd;
      addWord(pos);
      continue;
    }
    // \s+(?!\S)
    if (spaces > 1 && cpAt(pos + spaces) != kOutOfRange) {
      pos += spaces - 1;
      addWord(pos);
      continue;
    }
    // \s+
    if (spaces > 0) {
      pos += spaces;
      addWord(pos);
      continue;
    }
    addWord(++pos);
  }
  return words;
}

std::vector<std::string> Tokenizer::preTokenize(std::string_view text) const {
  std::vector<uint32_t> cps = decodeUtf8(text);
  if (llama3)
    return splitLlama3(cps);
  // Chunk boundaries (code point offsets) after the digit split.
  std::vector<std::pair<size_t, size_t>> chunks;
  if (splitDigits) {
    size_t start = 0;
    for (size_t i = 0; i < cps.size(); ++i)
      if (isNumber(cps[i])) {
        if (start < i)
          chunks.emplace_back(start, i);
        chunks.emplace_back(i, i + 1);
        start = i + 1;
      }
    if (start < cps.size())
      chunks.emplace_back(start, cps.size());
  } else if (!cps.empty()) {
    chunks.emplace_back(0, cps.size());
  }

  // GPT-2's regex
  //   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
  //   ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  // as llama.cpp's hand-written matcher, within each chunk.
  std::vector<std::string> words;
  enum : unsigned { Letter = 1, Number = 2, Space = 4, Other = 8 };
  for (const auto &chunk : chunks) {
    size_t begin = chunk.first, end = chunk.second;
    auto cpAt = [&](size_t pos) -> uint32_t {
      return pos < end ? cps[pos] : 0xFFFFFFFFu;
    };
    // An out-of-chunk position has no class at all.
    auto classAt = [&](size_t pos) -> unsigned {
      if (pos >= end)
        return 0;
      uint32_t cp = cps[pos];
      unsigned c = Other;
      if (isLetter(cp))
        c = Letter;
      else if (isNumber(cp))
        c = Number;
      if (isWhitespace(cp))
        c = (c & ~Other) | Space;
      return c;
    };
    WordCutter cutter{cps, words, begin};
    auto addWord = [&](size_t wordEnd) { cutter.cut(wordEnd); };
    for (size_t pos = begin; pos < end;) {
      uint32_t cp = cpAt(pos);
      unsigned cls = classAt(pos);
      if (size_t length =
              contractionLength(cps, pos, end, /*ignoreCase=*/false)) {
        pos += length;
        addWord(pos);
        continue;
      }
      unsigned cls2 = cp == ' ' ? classAt(pos + 1) : cls;
      if (cls2 & (Letter | Number)) {
        unsigned want = cls2 & Letter ? Letter : Number;
        pos += cp == ' ';
        while (classAt(pos) & want)
          ++pos;
        addWord(pos);
        continue;
      }
      if (cls2 & Other) {
        pos += cp == ' ';
        while (classAt(pos) & Other)
          ++pos;
        addWord(pos);
        continue;
      }
      size_t spaces = 0;
      while (classAt(pos + spaces) & Space)
        ++spaces;
      if (spaces > 1 && cpAt(pos + spaces) != 0xFFFFFFFFu) {
        pos += spaces - 1;
        addWord(pos);
        continue;
      }
      if (spaces > 0) {
        pos += spaces;
        addWord(pos);
        continue;
      }
      addWord(++pos);
    }
  }
  return words;
}

void Tokenizer::encodeBpeWord(std::string_view mapped,
                              std::vector<int32_t> &out,
                              size_t &dropped) const {
  std::vector<Symbol> symbols = splitUtf8Symbols(mapped);

  struct Bigram {
    int left, right;
    int32_t rank;
    std::string text;
  };
  auto worse = [](const Bigram &a, const Bigram &b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(
      worse);
  std::string key;
  auto addBigram = [&](int left, int right) {
    if (left == -1 || right == -1)
      return;
    std::string_view l(symbols[left].text, symbols[left].size);
    std::string_view r(symbols[right].text, symbols[right].size);
    key.assign(l.data(), l.size());
    key += ' ';
    key.append(r.data(), r.size());
    std::optional<int32_t> rank = index->mergeRanks.find(key);
    if (!rank)
      return;
    std::string text(l);
    text += r;
    queue.push({left, right, *rank, std::move(text)});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i)
    addBigram(i - 1, i);
  while (!queue.empty()) {
    Bigram bigram = queue.top();
    queue.pop();
    Symbol &left = symbols[bigram.left];
    Symbol &right = symbols[bigram.right];
    if (left.size == 0 || right.size == 0 ||
        std::string_view(left.text, left.size + right.size) != bigram.text ||
        left.next != bigram.right)
      continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = bigram.left;
    addBigram(left.prev, bigram.left);
    addBigram(bigram.left, left.next);
  }

  for (const Symbol &symbol : symbols) {
    if (symbol.size == 0)
      continue;
    std::string_view text(symbol.text, symbol.size);
    if (std::optional<int32_t> id = lookup(text)) {
      out.push_back(*id);
      continue;
    }
    // Fall back to one token per byte of the mapped text. A character of
    // it (one byte of the input) with a byte no token spells is dropped.
    for (size_t i = 0; i < text.size();) {
      size_t length = std::min(getUtf8Length(static_cast<uint8_t>(text[i])),
                               text.size() - i);
      bool lost = false;
      for (char byte : text.substr(i, length))
        if (std::optional<int32_t> id = lookup(std::string_view(&byte, 1)))
          out.push_back(*id);
        else
          lost = true;
      dropped += lost;
      i += length;
    }
  }
}

void Tokenizer::encodeBpe(std::string_view text, std::vector<int32_t> &out,
                          size_t &dropped) const {
  std::string mapped;
  for (const std::string &word : preTokenize(text)) {
    // The word's bytes in the GPT-2 alphabet.
    mapped.clear();
    for (unsigned char byte : word)
      appendUtf8(byteToUnicode(byte), mapped);
    // Llama 3: a word that is a token is that token, merges or not.
    if (llama3)
      if (std::optional<int32_t> id = lookup(mapped)) {
        out.push_back(*id);
        continue;
      }
    encodeBpeWord(mapped, out, dropped);
  }
}

void Tokenizer::encodeSentencePiece(std::string_view raw, bool prefixSpace,
                                    std::vector<int32_t> &out,
                                    size_t &dropped) const {
  std::string text;
  if (prefixSpace)
    text += ' ';
  text += raw;
  // Escape spaces as U+2581.
  std::string escaped;
  for (char c : text) {
    if (c == ' ')
      escaped += "\xe2\x96\x81";
    else
      escaped += c;
  }

  std::vector<Symbol> symbols = splitUtf8Symbols(escaped);

  struct Bigram {
    int left, right;
    float score;
    size_t size;
  };
  auto worse = [](const Bigram &a, const Bigram &b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(
      worse);
  // Merged text -> the two symbols it was last merged from; the keys view
  // `escaped`.
  std::unordered_map<std::string_view, std::pair<int, int>> reverseMerge;
  auto addBigram = [&](int left, int right) {
    if (left == -1 || right == -1)
      return;
    std::string_view merged(symbols[left].text,
                            symbols[left].size + symbols[right].size);
    std::optional<int32_t> id = lookup(merged);
    if (!id)
      return;
    queue.push({left, right, getScore(*id), merged.size()});
    reverseMerge[merged] = {left, right};
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i)
    addBigram(i - 1, i);
  while (!queue.empty()) {
    Bigram bigram = queue.top();
    queue.pop();
    Symbol &left = symbols[bigram.left];
    Symbol &right = symbols[bigram.right];
    if (left.size == 0 || right.size == 0 ||
        left.size + right.size != bigram.size)
      continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = bigram.left;
    addBigram(left.prev, bigram.left);
    addBigram(bigram.left, left.next);
  }

  // Symbols not in the vocabulary are split back along their merges, and
  // finally into <0xXX> byte tokens.
  std::function<void(std::string_view)> resegment =
      [&](std::string_view piece) {
        if (std::optional<int32_t> id = lookup(piece)) {
          out.push_back(*id);
          return;
        }
        auto it = reverseMerge.find(piece);
        if (it == reverseMerge.end()) {
          static const char hex[] = "0123456789ABCDEF";
          // A character with a byte no token spells is dropped (counted
          // once: the escaped space is one character of three bytes).
          bool lost = false;
          size_t characterEnd = 0;
          for (size_t i = 0; i < piece.size(); ++i) {
            if (i == characterEnd) {
              dropped += lost;
              lost = false;
              characterEnd = i + getUtf8Length(static_cast<uint8_t>(piece[i]));
            }
            unsigned char byte = piece[i];
            char name[] = {'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>'};
            if (std::optional<int32_t> byteToken =
                    lookup(std::string_view(name, sizeof(name))))
              out.push_back(*byteToken);
            else if (std::optional<int32_t> rawToken = lookup(std::string_view(
                         reinterpret_cast<const char *>(&byte), 1)))
              out.push_back(*rawToken);
            else
              lost = true;
          }
          dropped += lost;
          return;
        }
        auto [l, r] = it->second;
        resegment(std::string_view(symbols[l].text, symbols[l].size));
        resegment(std::string_view(symbols[r].text, symbols[r].size));
      };
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next)
    resegment(std::string_view(symbols[i].text, symbols[i].size));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool withBos,
                                       bool parseSpecial,
                                       size_t *droppedBytes) const {
  std::vector<int32_t> out;
  size_t dropped = 0;
  if (withBos && vocab.bos >= 0)
    out.push_back(vocab.bos);
  // Split the text around special tokens, longest first. A fragment is raw
  // text (id -1) or one special token.
  struct Fragment {
    int32_t id;
    std::string_view text;
  };
  std::vector<Fragment> fragments;
  if (!text.empty())
    fragments.push_back({-1, text});
  for (int32_t special : specialTokens) {
    if (getTokenType(special) == TokenType::Control && !parseSpecial)
      continue;
    std::string_view needle = vocab.texts[special];
    std::vector<Fragment> next;
    for (const Fragment &fragment : fragments) {
      if (fragment.id != -1) {
        next.push_back(fragment);
        continue;
      }
      std::string_view rest = fragment.text;
      for (size_t at; (at = rest.find(needle)) != std::string_view::npos;) {
        if (at > 0)
          next.push_back({-1, rest.substr(0, at)});
        next.push_back({special, needle});
        rest.remove_prefix(at + needle.size());
      }
      if (!rest.empty())
        next.push_back({-1, rest});
    }
    fragments = std::move(next);
  }

  bool previousSpecial = true;
  for (const Fragment &fragment : fragments) {
    if (fragment.id != -1) {
      out.push_back(fragment.id);
      previousSpecial = true;
      continue;
    }
    if (vocab.kind == Kind::BytePairEncoding)
      encodeBpe(fragment.text, out, dropped);
    else
      encodeSentencePiece(
          fragment.text, vocab.addSpacePrefix && previousSpecial, out, dropped);
    previousSpecial = false;
  }
  if (droppedBytes)
    *droppedBytes = dropped;
  return out;
}

std::string Tokenizer::decode(const int32_t *tokens, size_t count,
                              bool includeSpecial) const {
  static const std::vector<int> unicodeToByte = [] {
    std::vector<int> map(512, -1);
    for (int b = 0; b < 256; ++b)
      map[byteToUnicode(static_cast<uint8_t>(b))] = b;
    return map;
  }();
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    int32_t id = tokens[i];
    if (id < 0 || id >= getVocabSize())
      continue;
    TokenType type = getTokenType(id);
    if ((type == TokenType::Control || type == TokenType::Unknown) &&
        !includeSpecial)
      continue;
    const std::string &text = vocab.texts[id];
    if (type == TokenType::Control || type == TokenType::UserDefined) {
      out += text;
      continue;
    }
    if (vocab.kind == Kind::BytePairEncoding) {
      for (uint32_t cp : decodeUtf8(text)) {
        if (cp < unicodeToByte.size() && unicodeToByte[cp] >= 0)
          out += static_cast<char>(unicodeToByte[cp]);
        else
          appendUtf8(cp, out);
      }
      continue;
    }
    // A byte token is "<0x" and two hexadecimal digits (either case).
    if (type == TokenType::Byte && text.size() == 6 &&
        startsWith(text, "<0x") && hexDigit(text[3]) >= 0 &&
        hexDigit(text[4]) >= 0) {
      out += static_cast<char>(hexDigit(text[3]) * 16 + hexDigit(text[4]));
      continue;
    }
    std::string_view rest = text;
    while (!rest.empty()) {
      if (startsWith(rest, "\xe2\x96\x81")) {
        out += ' ';
        rest.remove_prefix(3);
        continue;
      }
      out += rest.front();
      rest.remove_prefix(1);
    }
  }
  if (vocab.kind == Kind::SentencePiece && vocab.addSpacePrefix &&
      startsWith(out, " "))
    out.erase(0, 1);
  return out;
}
