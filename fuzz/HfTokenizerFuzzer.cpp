//===- HfTokenizerFuzzer.cpp - libFuzzer harness for tokenizer.json -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Random bytes as a Hugging Face tokenizer.json (readHfTokenizerJson, no
// configuration files beside it). A file that reads must build a tokenizer
// or be refused with a message; a tokenizer must encode a fixed text into
// ids inside its vocabulary. Findings: a crash, a sanitizer report, an
// empty error message, an id outside the vocabulary.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef contents(reinterpret_cast<const char *>(data), size);
  llvm::Expected<qpaltok::Vocabulary> vocab = qpal::model::readHfTokenizerJson(
      contents, "/nonexistent-qpal-fuzz/tokenizer.json");
  if (!vocab) {
    if (llvm::toString(vocab.takeError()).empty()) {
      std::fprintf(stderr, "finding: an empty error message\n");
      std::abort();
    }
    return 0;
  }
  std::string error;
  std::unique_ptr<qpaltok::Tokenizer> tokenizer =
      qpaltok::Tokenizer::create(std::move(*vocab), error);
  if (!tokenizer) {
    if (error.empty()) {
      std::fprintf(stderr, "finding: an empty error message\n");
      std::abort();
    }
    return 0;
  }
  for (bool special : {false, true})
    for (int32_t id : tokenizer->encode(
             "Hello world, 123 \xe2\x80\x94 <s>the</s>\n", true, special))
      if (id < 0 || id >= tokenizer->getVocabSize()) {
        std::fprintf(stderr, "finding: id %d outside a vocabulary of %lld\n",
                     id, static_cast<long long>(tokenizer->getVocabSize()));
        std::abort();
      }
  return 0;
}
