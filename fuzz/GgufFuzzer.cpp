//===- GgufFuzzer.cpp - libFuzzer harness for the GGUF reader -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes through everything that reads a GGUF file: the
// parser, tensor dequantization, the model view (config, canonical names,
// q/k un-permutation), the tokenizer (encode, decode, the serialized
// vocabulary), and, for small models, the evaluator. Any error is fine; a
// crash or sanitizer report is a finding.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Evaluator.h"
#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace qpal::model;

namespace {
/// Bounds the work per input so that the fuzzer stays fast.
constexpr int64_t maxReadElements = 1 << 18;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto file = GgufFile::parse(
      llvm::MemoryBuffer::getMemBuffer(bytes, "fuzz.gguf", false));
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  std::vector<float> values;
  for (const GgufTensorInfo &tensor : (*file)->getTensors()) {
    if (tensor.numElements > maxReadElements)
      continue;
    values.resize(tensor.numElements);
    llvm::consumeError((*file)->readTensor(tensor, values));
  }
  for (const auto &entry : (*file)->getMetadata()) {
    (void)entry.second.getIntegerArray();
    (void)entry.second.getFloatArray();
  }

  auto tokenizer = Tokenizer::fromGguf(**file);
  if (tokenizer) {
    for (llvm::StringRef text :
         {"Hello world, it's 2024!  \n\n x", "caf\xc3\xa9 \xe2\x80\x94 \xff",
          "<|im_start|>user 12 ab"}) {
      std::vector<int32_t> ids = (*tokenizer)->encode(text, true, true);
      (void)(*tokenizer)->decode(ids, true);
    }
    // Every vocabulary read from GGUF survives its serialized form.
    std::string serialized =
        qpaltok::serializeVocabulary((*tokenizer)->getVocabulary());
    qpaltok::Vocabulary parsed;
    std::string error;
    if (!qpaltok::parseVocabulary(serialized.data(), serialized.size(), parsed,
                                  error) ||
        qpaltok::serializeVocabulary(parsed) != serialized)
      std::abort();
  } else {
    llvm::consumeError(tokenizer.takeError());
  }

  auto model = openGgufModel(
      llvm::MemoryBuffer::getMemBuffer(bytes, "fuzz.gguf", false));
  if (!model) {
    llvm::consumeError(model.takeError());
    return 0;
  }
  int64_t total = 0;
  for (const TensorInfo &tensor : (*model)->getTensors()) {
    if (tensor.numElements > maxReadElements)
      continue;
    total += tensor.numElements;
    values.resize(tensor.numElements);
    llvm::consumeError((*model)->readInto(tensor.name, values));
  }
  const ModelConfig &config = (*model)->getConfig();
  // Only evaluate models whose size the file itself backs.
  if (total > maxReadElements || config.numLayers > 4 ||
      config.hiddenSize * config.intermediateSize > maxReadElements ||
      config.vocabSize * config.hiddenSize > maxReadElements)
    return 0;
  EvaluatorOptions options;
  options.numThreads = 1;
  options.maxContext = 8;
  auto evaluator = Evaluator::create(**model, options);
  if (!evaluator) {
    llvm::consumeError(evaluator.takeError());
    return 0;
  }
  std::vector<int32_t> tokens = {0, 1, 2};
  for (int32_t &token : tokens)
    token %= static_cast<int32_t>(config.vocabSize);
  auto nll = (*evaluator)->scoreSequence(tokens);
  if (!nll)
    llvm::consumeError(nll.takeError());
  return 0;
}
