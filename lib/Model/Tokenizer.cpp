//===- Tokenizer.cpp - Tokenizers embedded in GGUF files ------------------===//
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

#include "qpal/Model/Tokenizer.h"

#include "Unicode.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <functional>
#include <queue>

using namespace qpal::model;
using namespace qpal::model::detail;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

Tokenizer::~Tokenizer() = default;

namespace {

/// Pre-tokenizers that split digits off first, then apply GPT-2's regex.
const StringRef digitSplittingPreTokenizers[] = {
    "smollm",    "starcoder", "refact", "command-r",
    "codeshell", "exaone",    "minerva"};
/// Pre-tokenizers that are GPT-2's regex alone.
const StringRef gpt2PreTokenizers[] = {"gpt-2", "gpt2", "mpt", "olmo", "jais"};

Error tokenizerError(const GgufFile &file, const llvm::Twine &message) {
  return llvm::createStringError(file.getPath() + ": tokenizer: " + message);
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
std::vector<Symbol> splitUtf8Symbols(const std::string &text) {
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

} // namespace

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromGguf(const GgufFile &file) {
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  Expected<StringRef> model = file.getString("tokenizer.ggml.model");
  if (!model)
    return model.takeError();
  if (*model == "gpt2") {
    tok->kind = TokenizerKind::BytePairEncoding;
  } else if (*model == "llama") {
    tok->kind = TokenizerKind::SentencePiece;
  } else {
    return tokenizerError(file, "unsupported tokenizer model '" + *model +
                                    "', expected 'gpt2' or 'llama'");
  }

  const GgufValue *tokens = file.lookup("tokenizer.ggml.tokens");
  if (!tokens || !tokens->isArray() ||
      tokens->getArrayElementType() != GgufValueType::String)
    return tokenizerError(file, "missing string array tokenizer.ggml.tokens");
  size_t vocab = tokens->getArraySize();
  if (vocab == 0 || vocab > static_cast<size_t>(INT32_MAX))
    return tokenizerError(file,
                          llvm::formatv("bad vocabulary size {0}", vocab));
  tok->texts.reserve(vocab);
  for (size_t i = 0; i < vocab; ++i) {
    StringRef text = tokens->getStringArray()[i];
    tok->texts.push_back(text.str());
    // Later duplicates win, as in llama.cpp.
    tok->textToId[text] = static_cast<int32_t>(i);
  }

  tok->scores.assign(vocab, 0.0f);
  if (const GgufValue *scores = file.lookup("tokenizer.ggml.scores")) {
    std::optional<std::vector<float>> values = scores->getFloatArray();
    if (!values || values->size() != vocab)
      return tokenizerError(file, "tokenizer.ggml.scores must be a numeric "
                                  "array with one score per token");
    tok->scores = std::move(*values);
  }
  tok->types.assign(vocab, TokenType::Normal);
  if (const GgufValue *types = file.lookup("tokenizer.ggml.token_type")) {
    std::optional<std::vector<int64_t>> values = types->getIntegerArray();
    if (!values || values->size() != vocab)
      return tokenizerError(file, "tokenizer.ggml.token_type must be an "
                                  "integer array with one type per token");
    for (size_t i = 0; i < vocab; ++i) {
      int64_t type = (*values)[i];
      if (type < 0 || type > 6)
        return tokenizerError(
            file, llvm::formatv("token {0} has unknown type {1}", i, type));
      tok->types[i] = static_cast<TokenType>(type);
    }
  }

  auto tokenId = [&](StringRef key, std::optional<int32_t> &out) -> Error {
    const GgufValue *value = file.lookup(key);
    if (!value)
      return Error::success();
    std::optional<int64_t> id = value->getAsInteger();
    if (!id)
      return tokenizerError(file, key + " must be an integer");
    // llama.cpp writes -1 (as uint32 0xffffffff) for "none".
    if (*id < 0 || *id == 0xffffffff)
      return Error::success();
    if (*id >= static_cast<int64_t>(vocab))
      return tokenizerError(file, llvm::formatv("{0} = {1} is outside the "
                                                "vocabulary of {2}",
                                                key, *id, vocab));
    out = static_cast<int32_t>(*id);
    return Error::success();
  };
  if (Error err = tokenId("tokenizer.ggml.bos_token_id", tok->bos))
    return std::move(err);
  if (Error err = tokenId("tokenizer.ggml.eos_token_id", tok->eos))
    return std::move(err);
  auto flag = [&](StringRef key, bool defaultValue) {
    const GgufValue *value = file.lookup(key);
    return value ? value->getAsBool().value_or(defaultValue) : defaultValue;
  };

  if (tok->kind == TokenizerKind::BytePairEncoding) {
    tok->addBos = flag("tokenizer.ggml.add_bos_token", false);
    const GgufValue *pre = file.lookup("tokenizer.ggml.pre");
    tok->preTokenizer =
        pre ? pre->getAsString().value_or("").str() : std::string("gpt-2");
    if (llvm::is_contained(digitSplittingPreTokenizers, tok->preTokenizer))
      tok->splitDigits = true;
    else if (!llvm::is_contained(gpt2PreTokenizers, tok->preTokenizer))
      return tokenizerError(file, "unsupported pre-tokenizer '" +
                                      tok->preTokenizer + "'");
    const GgufValue *merges = file.lookup("tokenizer.ggml.merges");
    if (!merges || !merges->isArray() ||
        merges->getArrayElementType() != GgufValueType::String)
      return tokenizerError(file, "missing string array tokenizer.ggml.merges");
    llvm::ArrayRef<StringRef> list = merges->getStringArray();
    for (size_t i = 0; i < list.size(); ++i) {
      // llama.cpp splits at the first space after the first character.
      size_t space = list[i].find(' ', 1);
      if (space == StringRef::npos)
        return tokenizerError(file, llvm::formatv("merge #{0} '{1}' has no "
                                                  "space",
                                                  i, list[i]));
      tok->mergeRanks.try_emplace(list[i], static_cast<int32_t>(i));
    }
  } else {
    tok->addBos = flag("tokenizer.ggml.add_bos_token", true);
    tok->addSpacePrefix = flag("tokenizer.ggml.add_space_prefix", true);
  }

  for (size_t i = 0; i < vocab; ++i)
    if (tok->types[i] == TokenType::UserDefined ||
        tok->types[i] == TokenType::Control)
      if (!tok->texts[i].empty())
        tok->specialTokens.push_back(static_cast<int32_t>(i));
  llvm::sort(tok->specialTokens, [&](int32_t a, int32_t b) {
    size_t sizeA = tok->texts[a].size(), sizeB = tok->texts[b].size();
    return sizeA != sizeB ? sizeA > sizeB : a < b;
  });
  return std::move(tok);
}

StringRef Tokenizer::getTokenText(int32_t id) const {
  if (id < 0 || id >= getVocabSize())
    return "";
  return texts[id];
}

TokenType Tokenizer::getTokenType(int32_t id) const {
  if (id < 0 || id >= getVocabSize())
    return TokenType::Undefined;
  return types[id];
}

std::optional<int32_t> Tokenizer::lookup(StringRef text) const {
  auto it = textToId.find(text);
  if (it == textToId.end())
    return std::nullopt;
  return it->second;
}

std::vector<std::string> Tokenizer::preTokenize(StringRef text) const {
  std::vector<uint32_t> cps = decodeUtf8(text);
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
    size_t prevEnd = begin;
    auto addWord = [&](size_t wordEnd) {
      if (wordEnd > prevEnd) {
        std::string word;
        for (size_t i = prevEnd; i < wordEnd; ++i)
          appendUtf8(cps[i], word);
        words.push_back(std::move(word));
      }
      prevEnd = wordEnd;
    };
    for (size_t pos = begin; pos < end;) {
      uint32_t cp = cpAt(pos);
      unsigned cls = classAt(pos);
      if (cp == '\'' && pos + 1 < end) {
        uint32_t next = cpAt(pos + 1);
        if (next == 's' || next == 't' || next == 'm' || next == 'd') {
          addWord(pos + 2);
          pos += 2;
          continue;
        }
        if (pos + 2 < end) {
          uint32_t nextNext = cpAt(pos + 2);
          if ((next == 'r' && nextNext == 'e') ||
              (next == 'v' && nextNext == 'e') ||
              (next == 'l' && nextNext == 'l')) {
            addWord(pos + 3);
            pos += 3;
            continue;
          }
        }
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

void Tokenizer::encodeBpeWord(StringRef word, std::vector<int32_t> &out) const {
  // Map the bytes to the GPT-2 alphabet.
  std::string mapped;
  for (unsigned char byte : word)
    appendUtf8(byteToUnicode(byte), mapped);

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
    StringRef l(symbols[left].text, symbols[left].size);
    StringRef r(symbols[right].text, symbols[right].size);
    key.assign(l.data(), l.size());
    key += ' ';
    key.append(r.data(), r.size());
    auto it = mergeRanks.find(key);
    if (it == mergeRanks.end())
      return;
    queue.push({left, right, it->second, (l + r).str()});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i)
    addBigram(i - 1, i);
  while (!queue.empty()) {
    Bigram bigram = queue.top();
    queue.pop();
    Symbol &left = symbols[bigram.left];
    Symbol &right = symbols[bigram.right];
    if (left.size == 0 || right.size == 0 ||
        StringRef(left.text, left.size + right.size) != bigram.text ||
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
    StringRef text(symbol.text, symbol.size);
    if (std::optional<int32_t> id = lookup(text)) {
      out.push_back(*id);
      continue;
    }
    // Fall back to one token per byte of the mapped text.
    for (char byte : text)
      if (std::optional<int32_t> id = lookup(StringRef(&byte, 1)))
        out.push_back(*id);
  }
}

void Tokenizer::encodeBpe(StringRef text, std::vector<int32_t> &out) const {
  for (const std::string &word : preTokenize(text))
    encodeBpeWord(word, out);
}

void Tokenizer::encodeSentencePiece(StringRef raw, bool prefixSpace,
                                    std::vector<int32_t> &out) const {
  std::string text;
  if (prefixSpace)
    text += ' ';
  text += raw.str();
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
  llvm::StringMap<std::pair<int, int>> reverseMerge;
  auto addBigram = [&](int left, int right) {
    if (left == -1 || right == -1)
      return;
    StringRef merged(symbols[left].text,
                     symbols[left].size + symbols[right].size);
    std::optional<int32_t> id = lookup(merged);
    if (!id)
      return;
    queue.push({left, right, scores[*id], merged.size()});
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
  std::function<void(int, StringRef)> resegment = [&](int index,
                                                      StringRef text) {
    if (std::optional<int32_t> id = lookup(text)) {
      out.push_back(*id);
      return;
    }
    auto it = reverseMerge.find(text);
    if (it == reverseMerge.end()) {
      for (unsigned char byte : text) {
        std::string name = llvm::formatv("<0x{0:X-2}>", byte).str();
        if (std::optional<int32_t> id = lookup(name))
          out.push_back(*id);
        else if (std::optional<int32_t> id =
                     lookup(StringRef(reinterpret_cast<char *>(&byte), 1)))
          out.push_back(*id);
      }
      return;
    }
    auto [l, r] = it->second;
    resegment(l, StringRef(symbols[l].text, symbols[l].size));
    resegment(r, StringRef(symbols[r].text, symbols[r].size));
  };
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next)
    resegment(i, StringRef(symbols[i].text, symbols[i].size));
}

std::vector<int32_t> Tokenizer::encode(StringRef text, bool withBos,
                                       bool parseSpecial) const {
  std::vector<int32_t> out;
  if (withBos && bos)
    out.push_back(*bos);
  // Split the text around special tokens, longest first. A fragment is raw
  // text (id -1) or one special token.
  struct Fragment {
    int32_t id;
    StringRef text;
  };
  std::vector<Fragment> fragments;
  if (!text.empty())
    fragments.push_back({-1, text});
  for (int32_t special : specialTokens) {
    if (types[special] == TokenType::Control && !parseSpecial)
      continue;
    StringRef needle = texts[special];
    std::vector<Fragment> next;
    for (const Fragment &fragment : fragments) {
      if (fragment.id != -1) {
        next.push_back(fragment);
        continue;
      }
      StringRef rest = fragment.text;
      for (size_t at; (at = rest.find(needle)) != StringRef::npos;) {
        if (at > 0)
          next.push_back({-1, rest.take_front(at)});
        next.push_back({special, needle});
        rest = rest.drop_front(at + needle.size());
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
    if (kind == TokenizerKind::BytePairEncoding)
      encodeBpe(fragment.text, out);
    else
      encodeSentencePiece(fragment.text, addSpacePrefix && previousSpecial,
                          out);
    previousSpecial = false;
  }
  return out;
}

std::string Tokenizer::decode(llvm::ArrayRef<int32_t> tokens,
                              bool includeSpecial) const {
  static const std::vector<int> unicodeToByte = [] {
    std::vector<int> map(512, -1);
    for (int b = 0; b < 256; ++b)
      map[byteToUnicode(static_cast<uint8_t>(b))] = b;
    return map;
  }();
  std::string out;
  for (int32_t id : tokens) {
    if (id < 0 || id >= getVocabSize())
      continue;
    TokenType type = types[id];
    if ((type == TokenType::Control || type == TokenType::Unknown) &&
        !includeSpecial)
      continue;
    const std::string &text = texts[id];
    if (type == TokenType::Control || type == TokenType::UserDefined) {
      out += text;
      continue;
    }
    if (kind == TokenizerKind::BytePairEncoding) {
      for (uint32_t cp : decodeUtf8(text)) {
        if (cp < unicodeToByte.size() && unicodeToByte[cp] >= 0)
          out += static_cast<char>(unicodeToByte[cp]);
        else
          appendUtf8(cp, out);
      }
      continue;
    }
    unsigned byte;
    if (type == TokenType::Byte && text.size() == 6 &&
        StringRef(text).starts_with("<0x") &&
        !StringRef(text).substr(3, 2).getAsInteger(16, byte)) {
      out += static_cast<char>(byte);
      continue;
    }
    StringRef rest = text;
    while (!rest.empty()) {
      if (rest.consume_front("\xe2\x96\x81")) {
        out += ' ';
        continue;
      }
      out += rest.front();
      rest = rest.drop_front();
    }
  }
  if (kind == TokenizerKind::SentencePiece && addSpacePrefix &&
      StringRef(out).starts_with(" "))
    out.erase(0, 1);
  return out;
}

Expected<std::unique_ptr<Tokenizer>>
qpal::model::loadTokenizer(const ModelFile &model) {
  if (const GgufFile *gguf = model.getGguf())
    return Tokenizer::fromGguf(*gguf);
  return llvm::createStringError(model.getPath() +
                                 ": only GGUF files carry a tokenizer qpal "
                                 "can read");
}
