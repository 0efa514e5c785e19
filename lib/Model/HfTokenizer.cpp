//===- HfTokenizer.cpp - Hugging Face tokenizer.json ----------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Maps a `tokenizer.json` onto the qpaltok::Vocabulary of the GGUF file of
// the same tokenizer (Tokenizer.h, readHfTokenizerJson), recognizing the
// normalizer, pre-tokenizer and model forms that transformers' converters
// write for byte-level BPE and SentencePiece vocabularies, and refusing,
// by name, any other: a tokenizer qpal would run differently must not be
// accepted quietly. Every message starts with "<path>: tokenizer.json:".
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <tuple>

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
namespace json = llvm::json;

namespace {

/// The most tokens and merges a file may declare: far above any released
/// vocabulary (256k), far below what would exhaust memory.
constexpr size_t kMaxTokens = size_t{1} << 22;
constexpr size_t kMaxMerges = size_t{1} << 23;
/// tokenizer.json files of released models are a few MB.
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;

/// SentencePiece's word-boundary mark, U+2581.
constexpr StringRef kSpaceMark = "\xe2\x96\x81";

/// Llama 3's pre-tokenizer regex, as Meta's tokenizer.json spells it.
constexpr StringRef kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";

/// GPT-2's pre-tokenizer regex, as a Split pre-tokenizer spells it.
constexpr StringRef kGpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| "
                                 "?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|"
                                 "\\s+";

class Reader {
public:
  explicit Reader(StringRef path) : path(path.str()) {}

  /// Reads the file at the path.
  Expected<qpaltok::Vocabulary> read();
  /// Reads `contents` as the file at the path (whose directory holds the
  /// configuration files, if any).
  Expected<qpaltok::Vocabulary> read(StringRef contents);

private:
  Error error(const llvm::Twine &message) const {
    return llvm::createStringError(path + ": tokenizer.json: " + message);
  }
  /// The JSON of `value`, shortened, for messages.
  static std::string show(const json::Value *value);

  Error readVocabulary(const json::Object &model, bool unigram);
  Error readAddedTokens(const json::Object &root);
  Error readByteLevel(const json::Object &root, const json::Object &model);
  Error readSentencePiece(const json::Object &root, const json::Object &model,
                          bool unigram);
  Error readPostProcessor(const json::Object &root);
  Error readSpecialTokenConfig();
  Expected<int32_t> idOf(StringRef text, StringRef where) const;
  /// Fails when a file declares more than `limit` `what`.
  Error checkCount(size_t count, size_t limit, StringRef what) const {
    if (count <= limit)
      return Error::success();
    return error(llvm::formatv("{0} {1}, more than {2}", count, what, limit));
  }
  /// The model's "merges" array, at most kMaxMerges long.
  Expected<const json::Array *> mergesOf(const json::Object &model) const;
  /// The two parts of merge `index`: "left right" (tokenizers < 0.20) or
  /// ["left", "right"], neither empty.
  Expected<std::pair<StringRef, StringRef>> mergeParts(const json::Value &merge,
                                                       size_t index) const;

  std::string path;
  qpaltok::Vocabulary vocab;
  /// Each token's text by id, from the model's vocabulary and the added
  /// tokens; ids must cover [0, size) once.
  std::vector<std::optional<std::string>> byId;
  llvm::StringMap<int32_t> idByText;
};

std::string Reader::show(const json::Value *value) {
  if (!value)
    return "(none)";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << *value;
  if (text.size() > 120)
    text = text.substr(0, 117) + "...";
  return text;
}

/// Records token `text` at `id`, refusing a second text for one id.
static Error place(std::vector<std::optional<std::string>> &byId, int64_t id,
                   StringRef text, llvm::function_ref<Error(llvm::Twine)> err) {
  if (id < 0 || static_cast<size_t>(id) >= kMaxTokens)
    return err(llvm::formatv("token '{0}' has id {1}, outside [0, {2})", text,
                             id, kMaxTokens));
  if (byId.size() <= static_cast<size_t>(id))
    byId.resize(id + 1);
  std::optional<std::string> &slot = byId[id];
  if (slot && *slot != text)
    return err(
        llvm::formatv("id {0} is both '{1}' and '{2}'", id, *slot, text));
  slot = text.str();
  return Error::success();
}

Error Reader::readVocabulary(const json::Object &model, bool unigram) {
  auto err = [&](const llvm::Twine &m) { return error(m); };
  if (unigram) {
    // "vocab": [["piece", score], ...], the id is the index.
    const json::Array *entries = model.getArray("vocab");
    if (!entries)
      return error("the Unigram model has no \"vocab\" array");
    if (Error e = checkCount(entries->size(), kMaxTokens, "tokens"))
      return e;
    vocab.scores.assign(entries->size(), 0.0f);
    for (size_t i = 0; i < entries->size(); ++i) {
      const json::Array *pair = (*entries)[i].getAsArray();
      std::optional<StringRef> text =
          pair && pair->size() == 2 ? (*pair)[0].getAsString() : std::nullopt;
      std::optional<double> score =
          pair && pair->size() == 2 ? (*pair)[1].getAsNumber() : std::nullopt;
      if (!text || !score)
        return error(llvm::formatv("Unigram vocabulary entry {0} is not "
                                   "[\"piece\", score]: {1}",
                                   i, show(&(*entries)[i])));
      if (Error e = place(byId, static_cast<int64_t>(i), *text, err))
        return e;
      vocab.scores[i] = static_cast<float>(*score);
    }
    return Error::success();
  }
  const json::Object *entries = model.getObject("vocab");
  if (!entries)
    return error("the BPE model has no \"vocab\" object");
  if (Error e = checkCount(entries->size(), kMaxTokens, "tokens"))
    return e;
  for (const auto &[text, value] : *entries) {
    std::optional<int64_t> id = value.getAsInteger();
    if (!id)
      return error(llvm::formatv("the id of token '{0}' is not an integer: {1}",
                                 StringRef(text), show(&value)));
    if (Error e = place(byId, *id, text, err))
      return e;
  }
  return Error::success();
}

Error Reader::readAddedTokens(const json::Object &root) {
  auto err = [&](const llvm::Twine &m) { return error(m); };
  const json::Value *added = root.get("added_tokens");
  if (!added || added->kind() == json::Value::Null)
    return Error::success();
  const json::Array *tokens = added->getAsArray();
  if (!tokens)
    return error("\"added_tokens\" is not an array");
  // Types are set once every id is known; remember them by id.
  for (const json::Value &entry : *tokens) {
    const json::Object *token = entry.getAsObject();
    std::optional<int64_t> id = token ? token->getInteger("id") : std::nullopt;
    std::optional<StringRef> content =
        token ? token->getString("content") : std::nullopt;
    if (!id || !content)
      return error("an added token lacks an integer \"id\" or a string "
                   "\"content\": " +
                   show(&entry));
    if (Error e = place(byId, *id, *content, err))
      return e;
    bool special = token->getBoolean("special").value_or(false);
    if (vocab.types.size() <= static_cast<size_t>(*id))
      vocab.types.resize(*id + 1, qpaltok::TokenType::Normal);
    vocab.types[*id] =
        special ? qpaltok::TokenType::Control : qpaltok::TokenType::UserDefined;
  }
  return Error::success();
}

/// Whether `value` is a ByteLevel pre-tokenizer that applies GPT-2's regex
/// itself (`regex`) or after a Split (`!regex`), without a prefix space.
static bool isByteLevel(const json::Object *value, bool regex) {
  if (!value || value->getString("type") != "ByteLevel")
    return false;
  return !value->getBoolean("add_prefix_space").value_or(false) &&
         value->getBoolean("use_regex").value_or(true) == regex;
}

Error Reader::readByteLevel(const json::Object &root,
                            const json::Object &model) {
  vocab.kind = qpaltok::Kind::BytePairEncoding;
  const json::Value *normalizer = root.get("normalizer");
  if (normalizer && normalizer->kind() != json::Value::Null)
    return error("a byte-level BPE tokenizer with the normalizer " +
                 show(normalizer) +
                 " is not one qpal reproduces (llama.cpp runs none)");
  // The forms transformers writes: ByteLevel (GPT-2's regex inside),
  // Digits(individual) then ByteLevel ("smollm" and its kin in llama.cpp),
  // or Split(GPT-2's regex) then ByteLevel without its own regex.
  const json::Value *pre = root.get("pre_tokenizer");
  const json::Object *object = pre ? pre->getAsObject() : nullptr;
  if (isByteLevel(object, true)) {
    vocab.preTokenizer = "gpt-2";
  } else if (object && object->getString("type") == "Sequence" &&
             object->getArray("pretokenizers") &&
             object->getArray("pretokenizers")->size() == 2) {
    const json::Array &parts = *object->getArray("pretokenizers");
    const json::Object *first = parts[0].getAsObject();
    const json::Object *second = parts[1].getAsObject();
    if (first && first->getString("type") == "Digits" &&
        first->getBoolean("individual_digits").value_or(false) &&
        isByteLevel(second, true)) {
      vocab.preTokenizer = "smollm";
    } else if (first && first->getString("type") == "Split" &&
               first->getObject("pattern") && isByteLevel(second, false)) {
      std::optional<StringRef> regex =
          first->getObject("pattern")->getString("Regex");
      if (regex == kGpt2Regex)
        vocab.preTokenizer = "gpt-2";
      else if (regex == kLlama3Regex)
        vocab.preTokenizer = "llama-bpe";
    }
  }
  // Llama 3's words are looked up whole before they are merged (llama.cpp's
  // ignore_merges for "llama-bpe"); a file that merges them would tokenize
  // otherwise.
  if (vocab.preTokenizer == "llama-bpe" &&
      !model.getBoolean("ignore_merges").value_or(false))
    return error("Llama 3's pre-tokenizer without \"ignore_merges\": true "
                 "is not one qpal reproduces");
  if (vocab.preTokenizer.empty())
    return error("the pre-tokenizer " + show(pre) +
                 " is not one qpal reproduces: a byte-level BPE needs "
                 "ByteLevel with GPT-2's regex, alone or after "
                 "Digits(individual_digits), or Llama 3's regex");

  Expected<const json::Array *> merges = mergesOf(model);
  if (!merges)
    return merges.takeError();
  vocab.merges.reserve((*merges)->size());
  for (size_t i = 0; i < (*merges)->size(); ++i) {
    Expected<std::pair<StringRef, StringRef>> parts =
        mergeParts((**merges)[i], i);
    if (!parts)
      return parts.takeError();
    auto [left, right] = *parts;
    if (left.contains(' ') || right.contains(' '))
      return error(llvm::formatv("merge {0} has a part with a space, which "
                                 "byte-level BPE never has: {1}",
                                 i, show(&(**merges)[i])));
    vocab.merges.push_back((left + " " + right).str());
  }
  return Error::success();
}

Expected<const json::Array *>
Reader::mergesOf(const json::Object &model) const {
  const json::Array *merges = model.getArray("merges");
  if (!merges)
    return error("the BPE model has no \"merges\" array");
  if (Error e = checkCount(merges->size(), kMaxMerges, "merges"))
    return std::move(e);
  return merges;
}

Expected<std::pair<StringRef, StringRef>>
Reader::mergeParts(const json::Value &merge, size_t index) const {
  std::optional<StringRef> left, right;
  if (std::optional<StringRef> joined = merge.getAsString()) {
    std::tie(left, right) = joined->split(' ');
  } else if (const json::Array *pair = merge.getAsArray();
             pair && pair->size() == 2) {
    left = (*pair)[0].getAsString();
    right = (*pair)[1].getAsString();
  }
  if (left && right && !left->empty() && !right->empty())
    return std::make_pair(*left, *right);
  return error(llvm::formatv("merge {0} is neither \"left right\" nor "
                             "[\"left\", \"right\"]: {1}",
                             index, show(&merge)));
}

Error Reader::readSentencePiece(const json::Object &root,
                                const json::Object &model, bool unigram) {
  vocab.kind = qpaltok::Kind::SentencePiece;
  // The space prefix: Llama-2's normalizer, Prepend("▁") then
  // Replace(" ", "▁"); or a Metaspace pre-tokenizer, whose replacement
  // must be "▁" and which must not split.
  const json::Value *normalizer = root.get("normalizer");
  const json::Value *pre = root.get("pre_tokenizer");
  bool normalizerPrefix = false, metaspace = false;
  if (normalizer && normalizer->kind() != json::Value::Null) {
    const json::Object *object = normalizer->getAsObject();
    const json::Array *steps = object && object->getString("type") == "Sequence"
                                   ? object->getArray("normalizers")
                                   : nullptr;
    std::vector<const json::Object *> list;
    if (steps)
      for (const json::Value &step : *steps)
        list.push_back(step.getAsObject());
    else
      list.push_back(object);
    auto isReplace = [](const json::Object *o) {
      return o && o->getString("type") == "Replace" &&
             o->getObject("pattern") &&
             o->getObject("pattern")->getString("String") == " " &&
             o->getString("content") == kSpaceMark;
    };
    auto isPrepend = [](const json::Object *o) {
      return o && o->getString("type") == "Prepend" &&
             o->getString("prepend") == kSpaceMark;
    };
    if (list.size() == 2 && isPrepend(list[0]) && isReplace(list[1]))
      normalizerPrefix = true;
    else if (!(list.size() == 1 && isReplace(list[0])))
      return error("the normalizer " + show(normalizer) +
                   " is not one qpal reproduces: a SentencePiece vocabulary "
                   "needs Replace(\" \", \"\\u2581\"), after "
                   "Prepend(\"\\u2581\") or not");
  }
  if (pre && pre->kind() != json::Value::Null) {
    const json::Object *object = pre->getAsObject();
    if (!object || object->getString("type") != "Metaspace" ||
        object->getString("replacement") != kSpaceMark ||
        object->getBoolean("split").value_or(true))
      return error("the pre-tokenizer " + show(pre) +
                   " is not one qpal reproduces: a SentencePiece vocabulary "
                   "has none, or Metaspace(\"\\u2581\") without splitting");
    if (normalizer && normalizer->kind() != json::Value::Null)
      return error("both a normalizer and a Metaspace pre-tokenizer mark "
                   "spaces");
    std::optional<StringRef> scheme = object->getString("prepend_scheme");
    metaspace = scheme ? *scheme != "never"
                       : object->getBoolean("add_prefix_space").value_or(true);
    if (scheme && *scheme != "never" && *scheme != "first" &&
        *scheme != "always")
      return error("unknown Metaspace prepend_scheme '" + *scheme + "'");
  } else if (!normalizer || normalizer->kind() == json::Value::Null) {
    return error("a SentencePiece vocabulary (byte_fallback or Unigram) "
                 "needs a normalizer or a Metaspace pre-tokenizer that marks "
                 "spaces with \"\\u2581\"");
  }
  vocab.addSpacePrefix = normalizerPrefix || metaspace;

  // Unknown and byte tokens.
  std::optional<int64_t> unk;
  if (unigram) {
    unk = model.getInteger("unk_id");
  } else if (std::optional<StringRef> text = model.getString("unk_token")) {
    auto it = idByText.find(*text);
    if (it == idByText.end())
      return error("the unk_token '" + *text + "' is not in the vocabulary");
    unk = it->second;
  }
  if (unk && (*unk < 0 || static_cast<size_t>(*unk) >= vocab.texts.size()))
    return error(llvm::formatv("unk id {0} is outside the vocabulary", *unk));
  if (unk)
    vocab.types[*unk] = qpaltok::TokenType::Unknown;
  if (model.getBoolean("byte_fallback").value_or(false))
    for (size_t id = 0; id < vocab.texts.size(); ++id) {
      StringRef text = vocab.texts[id];
      unsigned byte;
      if (text.size() == 6 && text.starts_with("<0x") && text.ends_with(">") &&
          !text.substr(3, 2).getAsInteger(16, byte))
        vocab.types[id] = qpaltok::TokenType::Byte;
    }
  if (unigram)
    return Error::success();

  // BPE with byte fallback: llama.cpp merges the adjacent pair whose
  // concatenation scores highest, so each token scores -(rank of the first
  // merge that makes it): merges happen in the file's order. A token no
  // merge makes is never the product of one in tokenizers; it scores below
  // every merge.
  Expected<const json::Array *> merges = mergesOf(model);
  if (!merges)
    return merges.takeError();
  const float unmerged = -static_cast<float>((*merges)->size()) - 1.0f;
  vocab.scores.assign(vocab.texts.size(), unmerged);
  std::vector<bool> made(vocab.texts.size(), false);
  for (size_t rank = 0; rank < (*merges)->size(); ++rank) {
    Expected<std::pair<StringRef, StringRef>> parts =
        mergeParts((**merges)[rank], rank);
    if (!parts)
      return parts.takeError();
    std::string text = (parts->first + parts->second).str();
    auto it = idByText.find(text);
    if (it == idByText.end())
      return error(llvm::formatv("merge {0} makes '{1}', which is not in the "
                                 "vocabulary",
                                 rank, text));
    if (!made[it->second]) {
      made[it->second] = true;
      vocab.scores[it->second] = -static_cast<float>(rank);
    }
  }
  return Error::success();
}

Expected<int32_t> Reader::idOf(StringRef text, StringRef where) const {
  auto it = idByText.find(text);
  if (it == idByText.end())
    return error("the " + where + " '" + text + "' is not in the vocabulary");
  return it->second;
}

Error Reader::readPostProcessor(const json::Object &root) {
  // A TemplateProcessing whose single sequence starts with a special token
  // adds that token (the BOS) to every prompt.
  const json::Object *post = root.getObject("post_processor");
  if (!post)
    return Error::success();
  std::vector<const json::Object *> processors;
  if (post->getString("type") == "Sequence" && post->getArray("processors")) {
    for (const json::Value &p : *post->getArray("processors"))
      processors.push_back(p.getAsObject());
  } else {
    processors.push_back(post);
  }
  for (const json::Object *processor : processors) {
    if (!processor || processor->getString("type") != "TemplateProcessing")
      continue;
    const json::Array *single = processor->getArray("single");
    if (!single || single->empty())
      continue;
    const json::Object *first = (*single)[0].getAsObject();
    const json::Object *special =
        first ? first->getObject("SpecialToken") : nullptr;
    if (!special)
      continue;
    std::optional<StringRef> name = special->getString("id");
    if (!name)
      return error("a TemplateProcessing special token has no \"id\"");
    // The template names the token; its "special_tokens" entry may give
    // the id directly.
    Expected<int32_t> id = idOf(*name, "template's special token");
    if (!id)
      return id.takeError();
    vocab.bos = *id;
    vocab.addBos = true;
  }
  return Error::success();
}

/// The text of a special token in tokenizer_config.json: a string, or an
/// AddedToken object with "content".
static std::optional<StringRef> specialTokenText(const json::Object &config,
                                                 StringRef key) {
  const json::Value *value = config.get(key);
  if (!value)
    return std::nullopt;
  if (std::optional<StringRef> text = value->getAsString())
    return text;
  if (const json::Object *object = value->getAsObject())
    return object->getString("content");
  return std::nullopt;
}

/// Reads a small JSON file beside the tokenizer; std::nullopt if absent.
static Expected<std::optional<json::Value>> readSibling(StringRef dir,
                                                        StringRef name) {
  llvm::SmallString<256> file(dir);
  llvm::sys::path::append(file, name);
  if (!llvm::sys::fs::exists(file))
    return std::nullopt;
  auto buffer = llvm::MemoryBuffer::getFile(file);
  if (!buffer)
    return llvm::createStringError(file + ": " + buffer.getError().message());
  if ((*buffer)->getBufferSize() > (uint64_t{1} << 26))
    return llvm::createStringError(file + ": larger than 64 MB");
  Expected<json::Value> value = json::parse((*buffer)->getBuffer());
  if (!value)
    return llvm::createStringError(file + ": " +
                                   llvm::toString(value.takeError()));
  if (!value->getAsObject())
    return llvm::createStringError(file + ": not a JSON object");
  return std::optional<json::Value>(std::move(*value));
}

Error Reader::readSpecialTokenConfig() {
  StringRef dir = llvm::sys::path::parent_path(path);
  Expected<std::optional<json::Value>> config =
      readSibling(dir, "tokenizer_config.json");
  if (!config)
    return config.takeError();
  if (*config) {
    const json::Object &object = *(*config)->getAsObject();
    for (auto [key, slot] :
         {std::pair<StringRef, int32_t *>{"bos_token", &vocab.bos},
          {"eos_token", &vocab.eos}}) {
      std::optional<StringRef> text = specialTokenText(object, key);
      if (!text)
        continue;
      Expected<int32_t> id =
          idOf(*text, ("tokenizer_config.json " + key).str());
      if (!id)
        return id.takeError();
      *slot = *id;
    }
    if (std::optional<bool> add = object.getBoolean("add_bos_token"))
      vocab.addBos = *add && vocab.bos >= 0;
    return Error::success();
  }
  Expected<std::optional<json::Value>> model = readSibling(dir, "config.json");
  if (!model)
    return model.takeError();
  if (!*model)
    return Error::success();
  const json::Object &object = *(*model)->getAsObject();
  for (auto [key, slot] :
       {std::pair<StringRef, int32_t *>{"bos_token_id", &vocab.bos},
        {"eos_token_id", &vocab.eos}}) {
    if (vocab.bos >= 0 && slot == &vocab.bos)
      continue;
    std::optional<int64_t> id = object.getInteger(key);
    if (!id)
      continue;
    if (*id < 0 || static_cast<size_t>(*id) >= vocab.texts.size())
      return error(llvm::formatv("config.json {0} = {1} is outside the "
                                 "vocabulary of {2}",
                                 key, *id, vocab.texts.size()));
    *slot = static_cast<int32_t>(*id);
  }
  return Error::success();
}

Expected<qpaltok::Vocabulary> Reader::read() {
  uint64_t bytes = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(path, bytes))
    return error(ec.message());
  if (bytes > kMaxFileBytes)
    return error(
        llvm::formatv("{0} bytes, more than {1}", bytes, kMaxFileBytes));
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return error(buffer.getError().message());
  return read((*buffer)->getBuffer());
}

Expected<qpaltok::Vocabulary> Reader::read(StringRef contents) {
  Expected<json::Value> parsed = json::parse(contents);
  if (!parsed)
    return error(llvm::toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return error("not a JSON object");
  const json::Object *model = root->getObject("model");
  if (!model)
    return error("no \"model\" object");
  std::optional<StringRef> type = model->getString("type");
  // tokenizers omits the type of a BPE model in old files.
  bool unigram = type && *type == "Unigram";
  if (type && *type != "BPE" && !unigram)
    return error("the model type '" + *type +
                 "' is not supported: qpal reads BPE and Unigram");

  if (Error e = readVocabulary(*model, unigram))
    return std::move(e);
  if (Error e = readAddedTokens(*root))
    return std::move(e);
  if (byId.empty())
    return error("the vocabulary is empty");
  vocab.texts.reserve(byId.size());
  for (size_t id = 0; id < byId.size(); ++id) {
    if (!byId[id])
      return error(llvm::formatv("no token has id {0} (the vocabulary has "
                                 "ids up to {1})",
                                 id, byId.size() - 1));
    vocab.texts.push_back(std::move(*byId[id]));
    idByText[vocab.texts.back()] = static_cast<int32_t>(id);
  }
  vocab.types.resize(vocab.texts.size(), qpaltok::TokenType::Normal);
  if (unigram)
    vocab.scores.resize(vocab.texts.size(), 0.0f);

  bool sentencePiece =
      unigram || model->getBoolean("byte_fallback").value_or(false);
  if (Error e = sentencePiece ? readSentencePiece(*root, *model, unigram)
                              : readByteLevel(*root, *model))
    return std::move(e);
  if (Error e = readPostProcessor(*root))
    return std::move(e);
  if (Error e = readSpecialTokenConfig())
    return std::move(e);
  return std::move(vocab);
}

} // namespace

Expected<qpaltok::Vocabulary> qpal::model::readHfTokenizerJson(StringRef path) {
  return Reader(path).read();
}

Expected<qpaltok::Vocabulary>
qpal::model::readHfTokenizerJson(StringRef contents, StringRef path) {
  return Reader(path).read(contents);
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromHfJson(StringRef path) {
  Expected<qpaltok::Vocabulary> vocab = readHfTokenizerJson(path);
  if (!vocab)
    return vocab.takeError();
  std::string error;
  std::unique_ptr<qpaltok::Tokenizer> impl =
      qpaltok::Tokenizer::create(std::move(*vocab), error);
  if (!impl)
    return llvm::createStringError(path + ": tokenizer.json: " + error);
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}
