//===- GgufTest.cpp - GGUF structure and hostile files --------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Each test builds a GGUF image byte by byte with one thing wrong and checks
// that the reader names that thing in its error (one test per error class).
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/ModelFile.h"

#include "gtest/gtest.h"

#include <functional>

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

struct TensorSpec {
  std::string name = "w";
  std::vector<uint64_t> dims = {4};
  uint32_t type = 0; // F32
  uint64_t offset = 0;
};

/// The pieces of a GGUF image; `build` lays them out.
struct GgufImage {
  uint32_t version = 3;
  std::optional<uint64_t> tensorCount, metadataCount; // overrides
  std::vector<std::function<void(ByteWriter &)>> metadata;
  std::vector<TensorSpec> tensors = {TensorSpec()};
  uint64_t alignment = 32;
  size_t dataBytes = 16;

  void addString(const std::string &key, const std::string &value) {
    metadata.push_back([=](ByteWriter &w) {
      w.putString(key);
      w.put<uint32_t>(8);
      w.putString(value);
    });
  }
  void addU32(const std::string &key, uint32_t value) {
    metadata.push_back([=](ByteWriter &w) {
      w.putString(key);
      w.put<uint32_t>(4);
      w.put<uint32_t>(value);
    });
  }

  std::string build() const {
    ByteWriter w;
    w.bytes = "GGUF";
    w.put<uint32_t>(version);
    w.put<uint64_t>(tensorCount.value_or(tensors.size()));
    w.put<uint64_t>(metadataCount.value_or(metadata.size()));
    for (const auto &kv : metadata)
      kv(w);
    for (const TensorSpec &t : tensors) {
      w.putString(t.name);
      w.put<uint32_t>(t.dims.size());
      for (uint64_t d : t.dims)
        w.put<uint64_t>(d);
      w.put<uint32_t>(t.type);
      w.put<uint64_t>(t.offset);
    }
    w.pad(alignment);
    w.bytes.append(dataBytes, '\0');
    return w.bytes;
  }
};

llvm::Expected<std::unique_ptr<GgufFile>> parse(const std::string &bytes) {
  return GgufFile::parse(llvm::MemoryBuffer::getMemBufferCopy(bytes, "t.gguf"));
}

/// Returns the parse error of `bytes` ("" if it parsed).
std::string parseError(const std::string &bytes) {
  auto file = parse(bytes);
  if (file)
    return "";
  return toString(file.takeError());
}

TEST(GgufFile, ParsesMinimalFile) {
  GgufImage image;
  image.addString("general.architecture", "llama");
  auto file = parse(image.build());
  ASSERT_TRUE(static_cast<bool>(file)) << toString(file.takeError());
  ASSERT_EQ((*file)->getTensors().size(), 1u);
  const GgufTensorInfo &w = (*file)->getTensors()[0];
  EXPECT_EQ(w.numElements, 4);
  EXPECT_EQ(w.numBytes, 16);
  EXPECT_EQ((*file)->getTensorData(w).size(), 16u);
}

TEST(GgufFile, Version2IsAccepted) {
  GgufImage image;
  image.version = 2;
  EXPECT_EQ(parseError(image.build()), "");
}

TEST(GgufFile, BadMagic) {
  std::string bytes = GgufImage().build();
  bytes[3] = 'X';
  EXPECT_EQ(parseError(bytes), "t.gguf: not a GGUF file: bad magic 0x58554747");
}

TEST(GgufFile, UnsupportedVersion) {
  GgufImage image;
  image.version = 1;
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: unsupported GGUF version 1, expected 2 or 3");
  image.version = 0x03000000;
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: big-endian GGUF files are not supported");
}

TEST(GgufFile, TruncatedHeader) {
  std::string bytes = GgufImage().build().substr(0, 10);
  EXPECT_EQ(parseError(bytes),
            "t.gguf: truncated file: reading the tensor count at offset 8 "
            "needs 8 bytes, the file has 10");
  EXPECT_EQ(parseError(""), "t.gguf: truncated file: reading the magic at "
                            "offset 0 needs 4 bytes, the file has 0");
}

TEST(GgufFile, TruncatedString) {
  GgufImage image;
  image.addString("general.architecture", "llama");
  std::string bytes = image.build();
  // Cut inside the value string.
  bytes.resize(24 + 8 + 20 + 4 + 8 + 2);
  EXPECT_EQ(parseError(bytes),
            "t.gguf: truncated file: the value of 'general.architecture' at "
            "offset 56 claims 5 bytes, only 2 remain");
}

TEST(GgufFile, TruncatedTensorData) {
  GgufImage image;
  image.dataBytes = 8; // the F32 [4] tensor needs 16
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' data [0, 0 + 16) lies outside the data "
            "section of 8 bytes");
}

TEST(GgufFile, OffsetOutOfRange) {
  GgufImage image;
  image.tensors[0].offset = 0xffffffffffffffe0ull;
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' data [18446744073709551584, "
            "18446744073709551584 + 16) lies outside the data section of 16 "
            "bytes");
}

TEST(GgufFile, OverflowingShape) {
  GgufImage image;
  image.tensors[0].dims = {1ull << 40, 1ull << 40};
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' has a dimension 1099511627776 whose element "
            "count overflows");
  image.tensors[0].dims = {1ull << 63};
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' has a dimension 9223372036854775808 whose "
            "element count overflows");
  // Fits in int64 elements, but not in bytes.
  image.tensors[0].dims = {1ull << 62};
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' of 4611686018427387904 elements overflows its "
            "byte size");
}

TEST(GgufFile, AbsurdCounts) {
  GgufImage image;
  image.tensorCount = 1ull << 60;
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor count 1152921504606846976 exceeds what the 56 "
            "remaining bytes can hold");
  image.tensorCount.reset();
  image.metadataCount = ~0ull;
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: metadata count 18446744073709551615 exceeds what the 56 "
            "remaining bytes can hold");
}

TEST(GgufFile, AbsurdArrayCount) {
  GgufImage image;
  image.metadata.push_back([](ByteWriter &w) {
    w.putString("tokens");
    w.put<uint32_t>(9);          // array
    w.put<uint32_t>(8);          // of strings
    w.put<uint64_t>(1ull << 61); // absurd count
  });
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: metadata 'tokens' claims 2305843009213693952 strings, "
            "more than the 58 remaining bytes can hold");
  image.metadata[0] = [](ByteWriter &w) {
    w.putString("scores");
    w.put<uint32_t>(9);
    w.put<uint32_t>(6); // float32
    w.put<uint64_t>(1ull << 62);
  };
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: metadata 'scores' claims 4611686018427387904 elements of "
            "float32, more than the 58 remaining bytes can hold");
}

TEST(GgufFile, AbsurdStringLength) {
  GgufImage image;
  image.metadata.push_back([](ByteWriter &w) { w.put<uint64_t>(~0ull); });
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: truncated file: metadata key #0 at offset 24 claims "
            "18446744073709551615 bytes, only 80 remain");
}

TEST(GgufFile, UnknownValueType) {
  GgufImage image;
  image.metadata.push_back([](ByteWriter &w) {
    w.putString("k");
    w.put<uint32_t>(99);
  });
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: metadata 'k' has unknown value type 99");
  image.metadata[0] = [](ByteWriter &w) {
    w.putString("k");
    w.put<uint32_t>(9);
    w.put<uint32_t>(13);
  };
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: metadata 'k' is an array of unknown value type 13");
}

TEST(GgufFile, NestedArray) {
  GgufImage image;
  image.metadata.push_back([](ByteWriter &w) {
    w.putString("k");
    w.put<uint32_t>(9);
    w.put<uint32_t>(9);
    w.put<uint64_t>(1);
  });
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: metadata 'k' is an array of arrays, which GGUF readers "
            "do not support");
}

TEST(GgufFile, UnknownTensorType) {
  GgufImage image;
  image.tensors[0].type = 99;
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' has unknown or unsupported ggml type 99");
  image.tensors[0].type = 16; // IQ2_XXS: known to ggml, not to qpal
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' has unknown or unsupported ggml type 16");
}

TEST(GgufFile, TooManyDimensions) {
  GgufImage image;
  image.tensors[0].dims = {1, 1, 1, 1, 4};
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' has 5 dimensions, at most 4 are supported");
}

TEST(GgufFile, PartialBlock) {
  GgufImage image;
  image.tensors[0].type = 2; // Q4_0: rows must be multiples of 32
  image.tensors[0].dims = {33, 2};
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' has rows of 33 elements, not a multiple of the "
            "q4_0 block size 32");
}

TEST(GgufFile, MisalignedData) {
  GgufImage image;
  image.tensors[0].offset = 4;
  image.dataBytes = 64;
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: tensor 'w' data offset 4 is not a multiple of the "
            "alignment 32");
}

TEST(GgufFile, BadAlignment) {
  GgufImage image;
  image.addU32("general.alignment", 24);
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: general.alignment must be a nonzero power of two, got 24");
  image.metadata.clear();
  image.addString("general.alignment", "32");
  EXPECT_EQ(parseError(image.build()),
            "t.gguf: general.alignment must be a uint32, got string");
  // A valid custom alignment moves the data section.
  image.metadata.clear();
  image.addU32("general.alignment", 64);
  image.alignment = 64;
  image.tensors[0].offset = 0;
  EXPECT_EQ(parseError(image.build()), "");
}

TEST(GgufFile, DuplicateNames) {
  GgufImage image;
  image.tensors.push_back(TensorSpec());
  image.dataBytes = 64;
  EXPECT_EQ(parseError(image.build()), "t.gguf: duplicate tensor name 'w'");
  image.tensors.pop_back();
  image.addU32("a", 1);
  image.addU32("a", 2);
  EXPECT_EQ(parseError(image.build()), "t.gguf: duplicate metadata key 'a'");
}

/// Model-level checks on top of a structurally valid file.
TEST(GgufModel, HostileConfigs) {
  auto open = [](const GgufImage &image) -> std::string {
    auto model = openGgufModel(
        llvm::MemoryBuffer::getMemBufferCopy(image.build(), "m.gguf"));
    return model ? "" : toString(model.takeError());
  };
  GgufImage image;
  EXPECT_EQ(open(image), "m.gguf: missing metadata 'general.architecture'");

  image.addString("general.architecture", "llama");
  EXPECT_EQ(open(image), "m.gguf: missing metadata 'llama.embedding_length'");

  image.addU32("llama.embedding_length", 8);
  image.addU32("llama.feed_forward_length", 16);
  image.addU32("llama.block_count", 1);
  image.addU32("llama.attention.head_count", 0);
  image.tensors[0].name = "token_embd.weight";
  image.tensors[0].dims = {8, 2};
  image.dataBytes = 64;
  EXPECT_EQ(open(image), "m.gguf: invalid model config: head count must be "
                         "in [1, 4194304], got 0");

  image.metadata.pop_back();
  image.addU32("llama.attention.head_count", 16);
  EXPECT_EQ(open(image),
            "m.gguf: invalid model config: head dim must be in [1, 4194304], "
            "got 0");
  image.metadata.pop_back();
  image.addU32("llama.attention.head_count", 2);
  image.addU32("llama.attention.head_count_kv", 3);
  EXPECT_EQ(open(image), "m.gguf: invalid model config: head count 2 is not "
                         "a multiple of the kv head count 3");
  image.metadata.pop_back();
  EXPECT_EQ(open(image), "");

  // Two file names that map to one canonical name.
  image.tensors.push_back(image.tensors[0]);
  image.tensors[1].name = "model.embed_tokens.weight";
  image.tensors[1].offset = 64;
  image.dataBytes = 128;
  EXPECT_EQ(open(image), "m.gguf: duplicate tensor name "
                         "'model.embed_tokens.weight' (from "
                         "'model.embed_tokens.weight')");
}

TEST(ModelFile, CanonicalNames) {
  EXPECT_EQ(getCanonicalTensorName("blk.12.attn_q.weight"),
            "model.layers.12.self_attn.q_proj.weight");
  EXPECT_EQ(getCanonicalTensorName("blk.0.ffn_down.weight"),
            "model.layers.0.mlp.down_proj.weight");
  EXPECT_EQ(getCanonicalTensorName("blk.3.attn_norm.weight"),
            "model.layers.3.input_layernorm.weight");
  EXPECT_EQ(getCanonicalTensorName("blk.3.ffn_norm.weight"),
            "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(getCanonicalTensorName("blk.3.attn_output.weight"),
            "model.layers.3.self_attn.o_proj.weight");
  EXPECT_EQ(getCanonicalTensorName("token_embd.weight"),
            "model.embed_tokens.weight");
  EXPECT_EQ(getCanonicalTensorName("output_norm.weight"), "model.norm.weight");
  EXPECT_EQ(getCanonicalTensorName("output.weight"), "lm_head.weight");
  EXPECT_EQ(getCanonicalTensorName("blk.x.attn_q.weight"),
            "blk.x.attn_q.weight");
  EXPECT_EQ(getCanonicalTensorName("rope_freqs.weight"), "rope_freqs.weight");
  EXPECT_EQ(getLinearLayerKey("model.layers.3.self_attn.q_proj.weight"),
            "3_self_attn.q_proj");
  EXPECT_EQ(getLinearLayerKey("model.layers.29.mlp.down_proj.weight"),
            "29_mlp.down_proj");
  EXPECT_EQ(getLinearLayerKey("model.layers.3.input_layernorm.weight"),
            std::nullopt);
  EXPECT_EQ(getLinearLayerKey("lm_head.weight"), std::nullopt);
}

} // namespace
