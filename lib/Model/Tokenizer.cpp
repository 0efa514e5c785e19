//===- Tokenizer.cpp - Tokenizers embedded in GGUF files ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Reads the `tokenizer.ggml.*` keys into a qpaltok::Vocabulary with the
// checks and messages that are about GGUF (key types, -1 written as uint32),
// and leaves the rest (supported pre-tokenizers, merge syntax) to
// qpaltok::Tokenizer::create, whose messages get the same "<path>:
// tokenizer:" prefix.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Tokenizer.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

Tokenizer::~Tokenizer() = default;

static Error tokenizerError(const GgufFile &file, const llvm::Twine &message) {
  return llvm::createStringError(file.getPath() + ": tokenizer: " + message);
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::fromGguf(const GgufFile &file) {
  qpaltok::Vocabulary vocab;
  Expected<StringRef> model = file.getString("tokenizer.ggml.model");
  if (!model)
    return model.takeError();
  if (*model == "gpt2") {
    vocab.kind = TokenizerKind::BytePairEncoding;
  } else if (*model == "llama") {
    vocab.kind = TokenizerKind::SentencePiece;
  } else {
    return tokenizerError(file, "unsupported tokenizer model '" + *model +
                                    "', expected 'gpt2' or 'llama'");
  }

  const GgufValue *tokens = file.lookup("tokenizer.ggml.tokens");
  if (!tokens || !tokens->isArray() ||
      tokens->getArrayElementType() != GgufValueType::String)
    return tokenizerError(file, "missing string array tokenizer.ggml.tokens");
  size_t size = tokens->getArraySize();
  if (size == 0 || size > static_cast<size_t>(INT32_MAX))
    return tokenizerError(file, llvm::formatv("bad vocabulary size {0}", size));
  vocab.texts.reserve(size);
  for (StringRef text : tokens->getStringArray())
    vocab.texts.push_back(text.str());

  // Without scores or types, qpaltok scores every token 0 and types it
  // Normal.
  if (const GgufValue *scores = file.lookup("tokenizer.ggml.scores")) {
    std::optional<std::vector<float>> values = scores->getFloatArray();
    if (!values || values->size() != size)
      return tokenizerError(file, "tokenizer.ggml.scores must be a numeric "
                                  "array with one score per token");
    vocab.scores = std::move(*values);
  }
  if (const GgufValue *types = file.lookup("tokenizer.ggml.token_type")) {
    std::optional<std::vector<int64_t>> values = types->getIntegerArray();
    if (!values || values->size() != size)
      return tokenizerError(file, "tokenizer.ggml.token_type must be an "
                                  "integer array with one type per token");
    vocab.types.resize(size);
    for (size_t i = 0; i < size; ++i) {
      int64_t type = (*values)[i];
      if (type < 0 || type > 6)
        return tokenizerError(
            file, llvm::formatv("token {0} has unknown type {1}", i, type));
      vocab.types[i] = static_cast<TokenType>(type);
    }
  }

  auto tokenId = [&](StringRef key, int32_t &out) -> Error {
    const GgufValue *value = file.lookup(key);
    if (!value)
      return Error::success();
    std::optional<int64_t> id = value->getAsInteger();
    if (!id)
      return tokenizerError(file, key + " must be an integer");
    // llama.cpp writes -1 (as uint32 0xffffffff) for "none".
    if (*id < 0 || *id == 0xffffffff)
      return Error::success();
    if (*id >= static_cast<int64_t>(size))
      return tokenizerError(file, llvm::formatv("{0} = {1} is outside the "
                                                "vocabulary of {2}",
                                                key, *id, size));
    out = static_cast<int32_t>(*id);
    return Error::success();
  };
  if (Error err = tokenId("tokenizer.ggml.bos_token_id", vocab.bos))
    return std::move(err);
  if (Error err = tokenId("tokenizer.ggml.eos_token_id", vocab.eos))
    return std::move(err);
  auto flag = [&](StringRef key, bool defaultValue) {
    const GgufValue *value = file.lookup(key);
    return value ? value->getAsBool().value_or(defaultValue) : defaultValue;
  };

  // A BPE file must carry its merges (possibly none). A missing array is
  // reported after qpaltok's checks, so that an unsupported pre-tokenizer is
  // still reported first.
  bool missingMerges = false;
  if (vocab.kind == TokenizerKind::BytePairEncoding) {
    vocab.addBos = flag("tokenizer.ggml.add_bos_token", false);
    const GgufValue *pre = file.lookup("tokenizer.ggml.pre");
    vocab.preTokenizer =
        pre ? pre->getAsString().value_or("").str() : std::string("gpt-2");
    const GgufValue *merges = file.lookup("tokenizer.ggml.merges");
    if (merges && merges->isArray() &&
        merges->getArrayElementType() == GgufValueType::String) {
      vocab.merges.reserve(merges->getArraySize());
      for (StringRef merge : merges->getStringArray())
        vocab.merges.push_back(merge.str());
    } else {
      missingMerges = true;
    }
  } else {
    vocab.addBos = flag("tokenizer.ggml.add_bos_token", true);
    vocab.addSpacePrefix = flag("tokenizer.ggml.add_space_prefix", true);
  }

  std::string error;
  std::unique_ptr<qpaltok::Tokenizer> impl =
      qpaltok::Tokenizer::create(std::move(vocab), error);
  if (!impl)
    return tokenizerError(file, error);
  if (missingMerges)
    return tokenizerError(file, "missing string array tokenizer.ggml.merges");
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

Expected<std::unique_ptr<Tokenizer>>
qpal::model::loadTokenizer(const ModelFile &model) {
  if (const GgufFile *gguf = model.getGguf())
    return Tokenizer::fromGguf(*gguf);
  // A Hugging Face checkpoint: tokenizer.json in its directory.
  llvm::SmallString<256> file(model.getPath());
  if (!llvm::sys::fs::is_directory(file))
    llvm::sys::path::remove_filename(file);
  llvm::sys::path::append(file, "tokenizer.json");
  if (!llvm::sys::fs::exists(file))
    return llvm::createStringError(
        model.getPath() +
        ": no tokenizer: a safetensors model's is the "
        "tokenizer.json beside it, and " +
        file + " does not exist");
  return Tokenizer::fromHfJson(file);
}
