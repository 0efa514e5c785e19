//===- SafetensorsTest.cpp - Hugging Face checkpoints and formats agree ---===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// One tiny Llama (2 blocks, GQA, llama3 RoPE scaling) stored three ways by
// scripts/oracle/make_model_fixtures.py: BF16 single-file safetensors, F32
// sharded safetensors, and GGUF as llama.cpp's converter writes it (q/k rows
// permuted, rope_freqs.weight). All three must read to the same canonical
// tensors and give the logits numpy computes in float64.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Evaluator.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Safetensors.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <cmath>
#include <fstream>

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

std::unique_ptr<ModelFile> open(const std::string &name) {
  auto model = openModel(inputPath(name));
  EXPECT_TRUE(static_cast<bool>(model)) << toString(model.takeError());
  return model ? std::move(*model) : nullptr;
}

TEST(Safetensors, ConfigFromConfigJson) {
  std::unique_ptr<ModelFile> model = open("tiny-llama");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->getFormat(), ModelFormat::Safetensors);
  const ModelConfig &c = model->getConfig();
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.hiddenSize, 32);
  EXPECT_EQ(c.intermediateSize, 48);
  EXPECT_EQ(c.numLayers, 2);
  EXPECT_EQ(c.numHeads, 4);
  EXPECT_EQ(c.numKvHeads, 2);
  EXPECT_EQ(c.headDim, 8);
  EXPECT_EQ(c.vocabSize, 64);
  EXPECT_EQ(c.contextLength, 128);
  EXPECT_FALSE(c.tiedEmbeddings);
  EXPECT_EQ(c.ropeScaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(c.ropeScaling.factor, 8.0);
  EXPECT_EQ(c.ropeScaling.originalContextLength, 16);
  const TensorInfo *q =
      model->lookupTensor("model.layers.1.self_attn.q_proj.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, TensorType::BF16);
  EXPECT_EQ(llvm::ArrayRef<int64_t>(q->shape),
            llvm::ArrayRef<int64_t>({32, 32}));
  EXPECT_EQ(model->getTensors().size(), 2u * 9 + 3);
}

TEST(Safetensors, ShardedIndex) {
  std::unique_ptr<ModelFile> model = open("tiny-llama-sharded");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->getTensors().size(), 2u * 9 + 3);
  EXPECT_EQ(model->lookupTensor("model.layers.1.mlp.up_proj.weight")->type,
            TensorType::F32);
  // The index itself opens the same checkpoint.
  auto viaIndex =
      openModel(inputPath("tiny-llama-sharded/model.safetensors.index.json"));
  ASSERT_TRUE(static_cast<bool>(viaIndex)) << toString(viaIndex.takeError());
  EXPECT_EQ((*viaIndex)->getTensors().size(), 2u * 9 + 3);
  // Without `_name_or_path` in config.json, a checkpoint is named by its
  // directory, however it is opened.
  EXPECT_EQ(model->getConfig().name, "tiny-llama-sharded");
  EXPECT_EQ((*viaIndex)->getConfig().name, "tiny-llama-sharded");
}

/// BF16 single file, F32 shards and permuted F16 GGUF read to identical
/// canonical tensors (the bf16 values are exact in f16 too).
TEST(Safetensors, AllSourcesReadTheSameTensors) {
  std::unique_ptr<ModelFile> single = open("tiny-llama");
  std::unique_ptr<ModelFile> sharded = open("tiny-llama-sharded");
  std::unique_ptr<ModelFile> gguf = open("tiny-llama.gguf");
  ASSERT_TRUE(single && sharded && gguf);
  EXPECT_EQ(gguf->getFormat(), ModelFormat::Gguf);
  for (const TensorInfo &tensor : single->getTensors()) {
    auto a = single->read(tensor.name);
    auto b = sharded->read(tensor.name);
    auto c = gguf->read(tensor.name);
    ASSERT_TRUE(a && b && c) << tensor.name;
    EXPECT_EQ(*a, *b) << tensor.name;
    EXPECT_EQ(*a, *c) << tensor.name;
    EXPECT_EQ(gguf->lookupTensor(tensor.name)->shape, tensor.shape);
  }
  auto reference = readJson(inputPath("tiny-llama-reference.json"));
  ASSERT_TRUE(reference);
  std::vector<double> row =
      numbers(reference->getAsObject()->getArray("q_proj_0_row_5"));
  auto q = gguf->read("model.layers.0.self_attn.q_proj.weight");
  ASSERT_TRUE(static_cast<bool>(q));
  for (size_t i = 0; i < row.size(); ++i)
    EXPECT_EQ((*q)[5 * 32 + i], row[i]);
  // GGUF carries the llama3 scaling as per-frequency factors.
  EXPECT_EQ(gguf->getConfig().ropeScaling.frequencyFactors.size(), 4u);
}

/// The stored bytes of a tensor (what a compiled package keeps for an
/// embedding table) dequantize to exactly what `read` gives, from every
/// source; a tensor whose canonical layout is not the stored one (GGUF's
/// permuted q projection) is refused, naming it.
TEST(ModelFile, StoredBytesAreTheTensor) {
  for (const char *name :
       {"tiny-llama", "tiny-llama-sharded", "tiny-llama.gguf",
        "tiny-llama-vocab-embd-q4_1.gguf", "tiny-llama-vocab-embd-q5_0.gguf",
        "tiny-llama-vocab-embd-q8_0.gguf"}) {
    std::unique_ptr<ModelFile> model = open(name);
    ASSERT_TRUE(model);
    const TensorInfo *table = model->lookupTensor("model.embed_tokens.weight");
    ASSERT_TRUE(table);
    auto bytes = model->readStoredBytes(table->name);
    ASSERT_TRUE(static_cast<bool>(bytes)) << toString(bytes.takeError());
    EXPECT_EQ(static_cast<int64_t>(bytes->size()),
              *getStorageBytes(table->type, table->numElements))
        << name;
    std::vector<float> decoded(table->numElements);
    ASSERT_FALSE(static_cast<bool>(dequantize(table->type, *bytes, decoded)));
    auto values = model->read(table->name);
    ASSERT_TRUE(static_cast<bool>(values));
    EXPECT_EQ(decoded, *values) << name;
  }
  std::unique_ptr<ModelFile> gguf = open("tiny-llama.gguf");
  ASSERT_TRUE(gguf);
  auto q = gguf->readStoredBytes("model.layers.0.self_attn.q_proj.weight");
  ASSERT_FALSE(static_cast<bool>(q));
  EXPECT_NE(toString(q.takeError())
                .find("tensor 'blk.0.attn_q.weight' is stored in another "
                      "layout (llama.cpp's q/k permutation)"),
            std::string::npos);
  // The sharded safetensors' q projection is stored canonically.
  std::unique_ptr<ModelFile> sharded = open("tiny-llama-sharded");
  ASSERT_TRUE(sharded);
  EXPECT_TRUE(static_cast<bool>(
      sharded->readStoredBytes("model.layers.0.self_attn.q_proj.weight")));
}

/// The evaluator gives numpy's float64 logits from every source: the RoPE
/// layout is handled per format, and llama3 scaling matches rope_freqs.
TEST(Safetensors, LogitsMatchNumpyForEverySource) {
  auto reference = readJson(inputPath("tiny-llama-reference.json"));
  ASSERT_TRUE(reference);
  std::vector<int32_t> tokens =
      integers(reference->getAsObject()->getArray("tokens"));
  const llvm::json::Array &expected =
      *reference->getAsObject()->getArray("logits");
  for (const char *source :
       {"tiny-llama", "tiny-llama-sharded", "tiny-llama.gguf"}) {
    std::unique_ptr<ModelFile> model = open(source);
    ASSERT_TRUE(model);
    for (unsigned threads : {1u, 2u}) {
      EvaluatorOptions options;
      options.numThreads = threads;
      auto evaluator = Evaluator::create(*model, options);
      ASSERT_TRUE(static_cast<bool>(evaluator))
          << toString(evaluator.takeError());
      std::vector<float> logits;
      ASSERT_FALSE(static_cast<bool>((*evaluator)->forward(tokens, &logits)));
      double maxDiff = 0.0;
      for (size_t t = 0; t < tokens.size(); ++t) {
        std::vector<double> row = numbers(expected[t].getAsArray());
        for (size_t v = 0; v < row.size(); ++v)
          maxDiff = std::max(maxDiff, std::fabs(logits[t * 64 + v] - row[v]));
      }
      EXPECT_LT(maxDiff, 2e-4) << source << " threads " << threads;
    }
  }
}

/// Writes `bytes` to a temporary safetensors file and returns the open error.
std::string parseError(const std::string &bytes) {
  auto file = SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "t.safetensors"));
  return file ? "" : toString(file.takeError());
}

std::string withHeader(const std::string &json, size_t dataBytes = 0) {
  ByteWriter w;
  w.put<uint64_t>(json.size());
  w.bytes += json;
  w.bytes.append(dataBytes, '\0');
  return w.bytes;
}

TEST(SafetensorsFile, HostileFiles) {
  EXPECT_EQ(parseError("abc"), "t.safetensors: truncated file: 3 bytes, the "
                               "header length alone needs 8");
  EXPECT_EQ(parseError(withHeader("{}").substr(0, 9)),
            "t.safetensors: truncated file: the header claims 2 bytes, only 1 "
            "follow");
  ByteWriter huge;
  huge.put<uint64_t>(~0ull);
  EXPECT_EQ(parseError(huge.bytes), "t.safetensors: header length "
                                    "18446744073709551615 exceeds the limit "
                                    "of 100000000");
  EXPECT_EQ(parseError(withHeader("{\"a\":")).substr(0, 35),
            "t.safetensors: invalid header JSON:");
  EXPECT_EQ(parseError(withHeader("[]")),
            "t.safetensors: the header is not a JSON object");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", 8)),
      "t.safetensors: tensor 'w' has unknown dtype 'C64'");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4)),
      "t.safetensors: tensor 'w' data [0, 8) lies outside the data "
      "section of 4 bytes");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
      "t.safetensors: tensor 'w' of 3 F32 elements needs 12 bytes, "
      "data_offsets give 8");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
          8)),
      "t.safetensors: tensor 'w' element count overflows");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", 8)),
      "t.safetensors: tensor 'w' has a shape entry that is not a "
      "non-negative integer");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
      "t.safetensors: tensor 'w' has data_offsets that are not 0 <= "
      "begin <= end");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
          4)),
      "t.safetensors: duplicate tensor name 'w'");
  EXPECT_EQ(parseError(withHeader(R"({"w":{"dtype":"F32","shape":[1]}})")),
            "t.safetensors: tensor 'w' needs data_offsets [begin, end]");
  EXPECT_EQ(parseError(withHeader(R"({"__metadata__":{"a":1}})")),
            "t.safetensors: __metadata__ value of 'a' is not a string");
  // A valid file with metadata and an empty tensor.
  auto ok = SafetensorsFile::parse(llvm::MemoryBuffer::getMemBufferCopy(
      withHeader(
          R"({"__metadata__":{"format":"pt"},"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})"),
      "ok"));
  ASSERT_TRUE(static_cast<bool>(ok)) << toString(ok.takeError());
  EXPECT_EQ((*ok)->getMetadata().at("format"), "pt");
  EXPECT_EQ((*ok)->getTensors()[0].numElements, 0);
}

/// A shard index that points outside the checkpoint folder, or at a tensor
/// the shard lacks, is rejected.
TEST(SafetensorsModel, HostileIndex) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qpal-st", dir));
  auto write = [&](const std::string &name, const std::string &text) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    std::ofstream(path.c_str(), std::ios::binary) << text;
  };
  std::ifstream config(inputPath("tiny-llama/config.json"));
  write("config.json", std::string(std::istreambuf_iterator<char>(config),
                                   std::istreambuf_iterator<char>()));
  write("model.safetensors.index.json",
        R"({"weight_map":{"w":"../../etc/passwd"}})");
  auto model = openModel(dir);
  ASSERT_FALSE(static_cast<bool>(model));
  EXPECT_NE(toString(model.takeError())
                .find("shard name '../../etc/passwd' is not a file name in "
                      "the checkpoint directory"),
            std::string::npos);
  write("model.safetensors.index.json", R"({"metadata":{}})");
  model = openModel(dir);
  ASSERT_FALSE(static_cast<bool>(model));
  EXPECT_NE(toString(model.takeError()).find("missing object 'weight_map'"),
            std::string::npos);
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
