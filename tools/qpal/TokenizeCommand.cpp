//===- TokenizeCommand.cpp - `qpal tokenize` ------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The token ids a model sees for a text: from the model's own tokenizer
// (the GGUF vocabulary, or the tokenizer.json beside safetensors) or from a
// tokenizer file given with --tokenizer. One line of ids per input.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"
#include "qpal/Support/OutputFile.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qpal;

static constexpr StringLiteral kCommand = "tokenize";

static cl::SubCommand
    tokenizeCommand("tokenize",
                    "Print the token ids of texts (the model's tokenizer, or a "
                    "GGUF file's or a tokenizer.json)");
static cl::opt<std::string> modelPath(cl::Positional, cl::sub(tokenizeCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("[<model.gguf | safetensors>]"));
static cl::opt<std::string> tokenizerPath(
    "tokenizer", cl::sub(tokenizeCommand), cl::cat(driver::category()),
    cl::value_desc("file"),
    cl::desc("Tokenize with this tokenizer.json or GGUF file's vocabulary "
             "instead of the model's"));
static cl::list<std::string>
    textPaths("text", cl::sub(tokenizeCommand), cl::cat(driver::category()),
              cl::value_desc("file"),
              cl::desc("Tokenize this file (repeatable; one line each)"));
static cl::opt<std::string> prompt("prompt", cl::sub(tokenizeCommand),
                                   cl::cat(driver::category()),
                                   cl::desc("Tokenize this text"));
static cl::opt<bool> addBos("bos", cl::sub(tokenizeCommand),
                            cl::cat(driver::category()),
                            cl::desc("Prepend the BOS token, if the model "
                                     "adds one to prompts"));
static cl::opt<bool>
    parseSpecial("special", cl::sub(tokenizeCommand),
                 cl::cat(driver::category()),
                 cl::desc("Recognize control tokens written in the text"));
static cl::opt<bool> asJson("json", cl::sub(tokenizeCommand),
                            cl::cat(driver::category()),
                            cl::desc("Print JSON: the tokenizer and, per "
                                     "input, its ids"));
static cl::opt<std::string> outputPath("o", cl::sub(tokenizeCommand),
                                       cl::init("-"),
                                       cl::cat(driver::category()),
                                       cl::value_desc("file"),
                                       cl::desc("Output file (default: -)"));

static Expected<std::unique_ptr<model::Tokenizer>> openTokenizer() {
  if (!tokenizerPath.empty()) {
    if (StringRef(tokenizerPath).ends_with(".gguf")) {
      Expected<std::unique_ptr<model::GgufFile>> gguf =
          model::GgufFile::open(tokenizerPath);
      if (!gguf)
        return gguf.takeError();
      return model::Tokenizer::fromGguf(**gguf);
    }
    return model::Tokenizer::fromHfJson(tokenizerPath);
  }
  Expected<std::unique_ptr<model::ModelFile>> model =
      model::openModel(modelPath);
  if (!model)
    return model.takeError();
  return model::loadTokenizer(**model);
}

static int runTokenize() {
  if (modelPath.empty() == tokenizerPath.empty())
    return driver::reportError(kCommand,
                               "give a model or --tokenizer FILE (one)");
  if (textPaths.empty() && !prompt.getNumOccurrences())
    return driver::reportError(kCommand, "give --text FILE or --prompt TEXT");
  Expected<std::unique_ptr<model::Tokenizer>> tokenizer = openTokenizer();
  if (!tokenizer)
    return driver::reportError(kCommand, toString(tokenizer.takeError()));

  // The inputs, read before anything is written.
  std::vector<std::pair<std::string, std::string>> inputs;
  if (prompt.getNumOccurrences())
    inputs.push_back({"prompt", prompt});
  for (const std::string &path : textPaths) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> text =
        MemoryBuffer::getFile(path, /*IsText=*/false);
    if (!text)
      return driver::reportError(
          kCommand, formatv("{0}: {1}", path, text.getError().message()));
    inputs.push_back({path, (*text)->getBuffer().str()});
  }

  json::Array results;
  std::string lines;
  raw_string_ostream os(lines);
  for (const auto &[name, text] : inputs) {
    size_t dropped = 0;
    std::vector<int32_t> ids =
        (*tokenizer)
            ->encode(text, addBos && (*tokenizer)->getAddBos(), parseSpecial,
                     &dropped);
    driver::warnDroppedBytes(kCommand, dropped, name);
    if (asJson) {
      results.push_back(
          json::Object{{"input", name},
                       {"tokens", static_cast<int64_t>(ids.size())},
                       {"ids", json::Array(ids)}});
      continue;
    }
    interleave(ids, os, " ");
    os << "\n";
  }
  if (asJson) {
    const qpaltok::Vocabulary &vocab = (*tokenizer)->getVocabulary();
    json::Object report{{"kind", vocab.kind == qpaltok::Kind::BytePairEncoding
                                     ? "byte-level BPE"
                                     : "SentencePiece"},
                        {"vocabulary", (*tokenizer)->getVocabSize()},
                        {"inputs", std::move(results)}};
    if (!vocab.preTokenizer.empty())
      report["pre_tokenizer"] = vocab.preTokenizer;
    if (auto bos = (*tokenizer)->getBosToken())
      report["bos"] = *bos;
    if (auto eos = (*tokenizer)->getEosToken())
      report["eos"] = *eos;
    report["add_bos"] = (*tokenizer)->getAddBos();
    os << formatv("{0:2}", json::Value(std::move(report))) << "\n";
  }
  if (Error err = writeOutputFile(outputPath, lines))
    return driver::reportError(kCommand, toString(std::move(err)));
  return 0;
}

static driver::CommandRegistration registerTokenize(tokenizeCommand,
                                                    runTokenize);
