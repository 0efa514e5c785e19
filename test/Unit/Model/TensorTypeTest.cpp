//===- TensorTypeTest.cpp - ggml block formats and element types ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// test/Model/Inputs/dequant.gguf holds random blocks of every ggml block type
// next to their dequantization by the `gguf` Python package
// (scripts/oracle/make_model_fixtures.py): qpal must reproduce them.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "qpal/Model/Gguf.h"
#include "qpal/Model/TensorType.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace qpal::model;
using namespace qpal::model::test;

namespace {

std::unique_ptr<GgufFile> openFixture() {
  auto file = GgufFile::open(inputPath("dequant.gguf"));
  EXPECT_TRUE(static_cast<bool>(file)) << toString(file.takeError());
  return file ? std::move(*file) : nullptr;
}

class Dequantize : public ::testing::TestWithParam<const char *> {};

/// Every block type decodes to the values the gguf package computes.
TEST_P(Dequantize, MatchesGgufPackage) {
  std::unique_ptr<GgufFile> file = openFixture();
  ASSERT_TRUE(file);
  std::string name = GetParam();
  const GgufTensorInfo *raw = file->lookupTensor(name);
  const GgufTensorInfo *expected = file->lookupTensor(name + ".expected");
  ASSERT_TRUE(raw && expected) << name;
  EXPECT_EQ(getTensorTypeName(raw->type), name);
  EXPECT_EQ(raw->dims, expected->dims);
  std::vector<float> got(raw->numElements), want(expected->numElements);
  ASSERT_FALSE(static_cast<bool>(file->readTensor(*raw, got)));
  ASSERT_FALSE(static_cast<bool>(file->readTensor(*expected, want)));
  int mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    float tolerance = 1e-6f * std::max(1.0f, std::fabs(want[i]));
    if (!(std::fabs(got[i] - want[i]) <= tolerance) && mismatches++ < 5)
      ADD_FAILURE() << name << "[" << i << "] = " << got[i] << ", expected "
                    << want[i];
  }
  EXPECT_EQ(mismatches, 0);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, Dequantize,
                         ::testing::Values("q4_0", "q4_1", "q5_0", "q5_1",
                                           "q8_0", "q2_K", "q3_K", "q4_K",
                                           "q5_K", "q6_K", "f32", "f16",
                                           "bf16"));

/// Block sizes and bytes are ggml's.
TEST(TensorType, BlockGeometry) {
  EXPECT_EQ(getBlockElements(TensorType::Q4_1), 32);
  EXPECT_EQ(getBlockBytes(TensorType::Q4_1), 20);
  EXPECT_EQ(getBlockElements(TensorType::Q6_K), 256);
  EXPECT_EQ(getBlockBytes(TensorType::Q6_K), 210);
  EXPECT_EQ(getBlockBytes(TensorType::Q4_K), 144);
  EXPECT_EQ(getBlockBytes(TensorType::Q8_K), 292);
  EXPECT_EQ(getStorageBytes(TensorType::Q8_0, 64), 68);
  EXPECT_EQ(getStorageBytes(TensorType::Q8_0, 33), std::nullopt);
  EXPECT_EQ(getStorageBytes(TensorType::F32, -1), std::nullopt);
  EXPECT_EQ(
      getStorageBytes(TensorType::F64, std::numeric_limits<int64_t>::max() / 4),
      std::nullopt);
  EXPECT_EQ(tensorTypeFromGgmlId(3), TensorType::Q4_1);
  EXPECT_EQ(tensorTypeFromGgmlId(4), std::nullopt); // removed Q4_2
  EXPECT_EQ(tensorTypeFromGgmlId(1000), std::nullopt);
  EXPECT_EQ(tensorTypeFromSafetensorsName("BF16"), TensorType::BF16);
  EXPECT_EQ(tensorTypeFromSafetensorsName("C64"), std::nullopt);
}

/// Half conversion covers zero, subnormals, normals, infinity and NaN.
TEST(TensorType, HalfToFloat) {
  EXPECT_EQ(halfToFloat(0x0000), 0.0f);
  EXPECT_TRUE(std::signbit(halfToFloat(0x8000)));
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(halfToFloat(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::isinf(halfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16ToFloat(0xc040), -3.0f);
}

/// The 8-bit float and integer element types of safetensors.
TEST(TensorType, SmallElementTypes) {
  std::vector<uint8_t> bytes = {0x38, 0xb8, 0x7e, 0x01, 0x7f};
  std::vector<float> out(5);
  ASSERT_FALSE(static_cast<bool>(dequantize(TensorType::F8E4M3, bytes, out)));
  EXPECT_EQ(out[0], 1.0f); // 0.0111.000
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_EQ(out[2], 448.0f);               // the largest finite e4m3fn value
  EXPECT_EQ(out[3], std::ldexp(1.0f, -9)); // smallest subnormal
  EXPECT_TRUE(std::isnan(out[4]));
  std::vector<uint8_t> e5m2 = {0x3c, 0xc0, 0x7c, 0x00, 0x01};
  ASSERT_FALSE(static_cast<bool>(dequantize(TensorType::F8E5M2, e5m2, out)));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_TRUE(std::isinf(out[2]));
  EXPECT_EQ(out[3], 0.0f);
  EXPECT_EQ(out[4], std::ldexp(1.0f, -16));
  std::vector<uint8_t> i16 = {0xff, 0xff, 0x02, 0x00};
  std::vector<float> two(2);
  ASSERT_FALSE(static_cast<bool>(dequantize(TensorType::I16, i16, two)));
  EXPECT_EQ(two[0], -1.0f);
  EXPECT_EQ(two[1], 2.0f);
}

/// Q8_K (which the gguf package cannot decode): d * q with a float32 d.
TEST(TensorType, Q8K) {
  std::vector<uint8_t> block(292, 0);
  float d = 0.5f;
  std::memcpy(block.data(), &d, 4);
  block[4] = 3;
  block[4 + 255] = static_cast<uint8_t>(-7);
  std::vector<float> out(256);
  ASSERT_FALSE(static_cast<bool>(dequantize(TensorType::Q8_K, block, out)));
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[255], -3.5f);
}

/// Size mismatches and undecodable types are errors, not overreads.
TEST(TensorType, DequantizeErrors) {
  std::vector<uint8_t> bytes(18);
  std::vector<float> out(32), odd(31);
  EXPECT_EQ(toString(dequantize(TensorType::Q4_0, bytes, odd)),
            "31 elements are not a whole number of q4_0 blocks of 32");
  std::vector<uint8_t> shortBytes(17);
  EXPECT_EQ(toString(dequantize(TensorType::Q4_0, shortBytes, out)),
            "32 elements of q4_0 take 18 bytes, got 17");
  std::vector<uint8_t> flags(2);
  std::vector<float> two(2);
  EXPECT_EQ(toString(dequantize(TensorType::Bool, flags, two)),
            "bool tensors cannot be read as float");
}

/// An empty tensor of every type decodes to nothing, with empty (null)
/// buffers (a fuzz finding: memcpy was given null pointers).
TEST(TensorType, EmptyTensors) {
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16,
                          TensorType::Q4_0, TensorType::Q8_0})
    EXPECT_FALSE(static_cast<bool>(dequantize(type, {}, {})))
        << getTensorTypeName(type).str();
}

/// Every metadata value type reads back, arrays included.
TEST(GgufMetadata, AllValueTypes) {
  std::unique_ptr<GgufFile> file = openFixture();
  ASSERT_TRUE(file);
  EXPECT_EQ(file->getVersion(), 3u);
  EXPECT_EQ(file->getAlignment(), 32u);
  auto integer = [&](const char *key) {
    return file->lookup(key)->getAsInteger();
  };
  EXPECT_EQ(file->lookup("test.u8")->getType(), GgufValueType::UInt8);
  EXPECT_EQ(integer("test.u8"), 200);
  EXPECT_EQ(integer("test.i8"), -100);
  EXPECT_EQ(integer("test.u16"), 60000);
  EXPECT_EQ(integer("test.i16"), -30000);
  EXPECT_EQ(integer("test.u32"), 4000000000);
  EXPECT_EQ(integer("test.i32"), -2000000000);
  EXPECT_EQ(integer("test.i64"), -9000000000000000000);
  // Does not fit in int64, but is a number.
  EXPECT_EQ(integer("test.u64"), std::nullopt);
  EXPECT_EQ(file->lookup("test.u64")->getAsDouble(), 18e18);
  EXPECT_EQ(file->lookup("test.f32")->getAsDouble(), 0.15625);
  EXPECT_EQ(file->lookup("test.f64")->getAsDouble(), -2.5e-300);
  EXPECT_EQ(file->lookup("test.bool")->getAsBool(), true);
  EXPECT_EQ(file->lookup("test.bool")->getAsInteger(), std::nullopt);
  EXPECT_EQ(file->lookup("test.string")->getAsString(), "h\xc3\xa9llo");
  EXPECT_EQ(file->lookup("test.string")->getAsInteger(), std::nullopt);

  const GgufValue *ints = file->lookup("test.array_i32");
  ASSERT_TRUE(ints && ints->isArray());
  EXPECT_EQ(ints->getArrayElementType(), GgufValueType::Int32);
  EXPECT_EQ(ints->getIntegerArray(), std::vector<int64_t>({1, -2, 3}));
  EXPECT_EQ(ints->getFloatArray(), std::vector<float>({1, -2, 3}));
  EXPECT_EQ(file->lookup("test.array_f32")->getFloatArray(),
            std::vector<float>({0.5f, -1.25f}));
  EXPECT_EQ(file->lookup("test.array_f32")->getIntegerArray(), std::nullopt);
  std::vector<llvm::StringRef> strings(
      file->lookup("test.array_str")->getStringArray().begin(),
      file->lookup("test.array_str")->getStringArray().end());
  EXPECT_EQ(strings, std::vector<llvm::StringRef>({"a", "", "xyz"}));
  EXPECT_EQ(file->lookup("test.array_bool")->getIntegerArray(),
            std::vector<int64_t>({1, 0}));

  EXPECT_EQ(file->getString("general.architecture").get(), "qpal-fixture");
  auto notInteger = file->getInteger("test.string");
  EXPECT_EQ(toString(notInteger.takeError()),
            file->getPath().str() +
                ": metadata 'test.string' must be an integer, got string");
  EXPECT_EQ(toString(file->getDouble("missing.key").takeError()),
            file->getPath().str() + ": missing metadata 'missing.key'");
}

} // namespace
