//===- FuzzCorpusTest.cpp - Replays the fuzzers' corpora ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Runs every file of fuzz/corpus/ (the seeds, and the reproducers of past
// findings, `crash-*`) through the same code paths as the libFuzzer harnesses
// in fuzz/, so that a regression fails an ordinary build's tests. A file may
// be rejected with an error; it must not crash.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Evaluator.h"
#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Safetensors.h"
#include "qpal/Model/Tokenizer.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace qpal::model;

namespace {

std::vector<std::string> listCorpus(const std::string &name) {
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator
           it(std::string(QPAL_FUZZ_CORPUS_DIR) + "/" + name, ec),
       end;
       it != end && !ec; it.increment(ec))
    files.push_back(it->path());
  llvm::sort(files);
  return files;
}

/// What fuzz/GgufFuzzer.cpp does with one input.
void replayGguf(llvm::StringRef bytes) {
  auto file = GgufFile::parse(
      llvm::MemoryBuffer::getMemBuffer(bytes, "corpus.gguf", false));
  if (!file) {
    llvm::consumeError(file.takeError());
    return;
  }
  std::vector<float> values;
  for (const GgufTensorInfo &tensor : (*file)->getTensors()) {
    if (tensor.numElements > (1 << 18))
      continue;
    values.resize(tensor.numElements);
    llvm::consumeError((*file)->readTensor(tensor, values));
  }
  if (auto tokenizer = Tokenizer::fromGguf(**file)) {
    std::vector<int32_t> ids =
        (*tokenizer)->encode("Hello world, it's 2024!  \n\n x", true, true);
    (void)(*tokenizer)->decode(ids, true);
    std::string serialized =
        qpaltok::serializeVocabulary((*tokenizer)->getVocabulary());
    qpaltok::Vocabulary parsed;
    std::string error;
    EXPECT_TRUE(qpaltok::parseVocabulary(serialized.data(), serialized.size(),
                                         parsed, error))
        << error;
    EXPECT_EQ(qpaltok::serializeVocabulary(parsed), serialized);
  } else {
    llvm::consumeError(tokenizer.takeError());
  }
  auto model = openGgufModel(
      llvm::MemoryBuffer::getMemBuffer(bytes, "corpus.gguf", false));
  if (!model) {
    llvm::consumeError(model.takeError());
    return;
  }
  const ModelConfig &config = (*model)->getConfig();
  if (config.numLayers > 4 || config.vocabSize * config.hiddenSize > (1 << 18))
    return;
  EvaluatorOptions options;
  options.numThreads = 1;
  options.maxContext = 8;
  auto evaluator = Evaluator::create(**model, options);
  if (!evaluator) {
    llvm::consumeError(evaluator.takeError());
    return;
  }
  auto nll = (*evaluator)->scoreSequence({0, 1, 2});
  if (!nll)
    llvm::consumeError(nll.takeError());
}

TEST(FuzzCorpus, Gguf) {
  std::vector<std::string> files = listCorpus("gguf");
  EXPECT_GE(files.size(), 4u);
  for (const std::string &path : files) {
    SCOPED_TRACE(path);
    auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
    ASSERT_TRUE(static_cast<bool>(buffer));
    replayGguf((*buffer)->getBuffer());
  }
}

TEST(FuzzCorpus, Safetensors) {
  std::vector<std::string> files = listCorpus("safetensors");
  EXPECT_GE(files.size(), 2u);
  for (const std::string &path : files) {
    SCOPED_TRACE(path);
    auto file = SafetensorsFile::open(path);
    if (!file) {
      llvm::consumeError(file.takeError());
      continue;
    }
    std::vector<float> values;
    for (const SafetensorsTensorInfo &tensor : (*file)->getTensors()) {
      if (tensor.numElements > (1 << 18))
        continue;
      values.resize(tensor.numElements);
      llvm::consumeError((*file)->readTensor(tensor, values));
    }
  }
}

} // namespace
