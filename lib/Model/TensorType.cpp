//===- TensorType.cpp - Tensor storage types and dequantization -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The block decoders mirror ggml's reference `dequantize_row_*` functions
// (ggml/src/ggml-quants.c): same bit layout, same float32 arithmetic.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/TensorType.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace qpal::model;
using llvm::ArrayRef;
using llvm::Error;
using llvm::MutableArrayRef;
using llvm::StringRef;

std::optional<TensorType> qpal::model::tensorTypeFromGgmlId(uint32_t id) {
  switch (id) {
  case 0:
  case 1:
  case 2:
  case 3:
  case 6:
  case 7:
  case 8:
  case 10:
  case 11:
  case 12:
  case 13:
  case 14:
  case 15:
  case 24:
  case 25:
  case 26:
  case 27:
  case 28:
  case 30:
    return static_cast<TensorType>(id);
  default:
    return std::nullopt;
  }
}

std::optional<TensorType>
qpal::model::tensorTypeFromSafetensorsName(StringRef name) {
  return llvm::StringSwitch<std::optional<TensorType>>(name)
      .Case("F32", TensorType::F32)
      .Case("F16", TensorType::F16)
      .Case("BF16", TensorType::BF16)
      .Case("F64", TensorType::F64)
      .Case("I8", TensorType::I8)
      .Case("I16", TensorType::I16)
      .Case("I32", TensorType::I32)
      .Case("I64", TensorType::I64)
      .Case("U8", TensorType::U8)
      .Case("BOOL", TensorType::Bool)
      .Case("F8_E4M3", TensorType::F8E4M3)
      .Case("F8_E5M2", TensorType::F8E5M2)
      .Default(std::nullopt);
}

StringRef qpal::model::getTensorTypeName(TensorType type) {
  switch (type) {
  case TensorType::F32:
    return "f32";
  case TensorType::F16:
    return "f16";
  case TensorType::Q4_0:
    return "q4_0";
  case TensorType::Q4_1:
    return "q4_1";
  case TensorType::Q5_0:
    return "q5_0";
  case TensorType::Q5_1:
    return "q5_1";
  case TensorType::Q8_0:
    return "q8_0";
  case TensorType::Q2_K:
    return "q2_K";
  case TensorType::Q3_K:
    return "q3_K";
  case TensorType::Q4_K:
    return "q4_K";
  case TensorType::Q5_K:
    return "q5_K";
  case TensorType::Q6_K:
    return "q6_K";
  case TensorType::Q8_K:
    return "q8_K";
  case TensorType::I8:
    return "i8";
  case TensorType::I16:
    return "i16";
  case TensorType::I32:
    return "i32";
  case TensorType::I64:
    return "i64";
  case TensorType::F64:
    return "f64";
  case TensorType::BF16:
    return "bf16";
  case TensorType::U8:
    return "u8";
  case TensorType::Bool:
    return "bool";
  case TensorType::F8E4M3:
    return "f8_e4m3";
  case TensorType::F8E5M2:
    return "f8_e5m2";
  }
  return "unknown";
}

int64_t qpal::model::getBlockElements(TensorType type) {
  if (isScaledBlockFormat(type))
    return 32;
  switch (type) {
  case TensorType::Q2_K:
  case TensorType::Q3_K:
  case TensorType::Q4_K:
  case TensorType::Q5_K:
  case TensorType::Q6_K:
  case TensorType::Q8_K:
    return 256;
  default:
    return 1;
  }
}

int64_t qpal::model::getBlockBytes(TensorType type) {
  switch (type) {
  case TensorType::F32:
  case TensorType::I32:
    return 4;
  case TensorType::F16:
  case TensorType::BF16:
  case TensorType::I16:
    return 2;
  case TensorType::F64:
  case TensorType::I64:
    return 8;
  case TensorType::I8:
  case TensorType::U8:
  case TensorType::Bool:
  case TensorType::F8E4M3:
  case TensorType::F8E5M2:
    return 1;
  case TensorType::Q4_0:
    return 18;
  case TensorType::Q4_1:
    return 20;
  case TensorType::Q5_0:
    return 22;
  case TensorType::Q5_1:
    return 24;
  case TensorType::Q8_0:
    return 34;
  case TensorType::Q2_K:
    return 84;
  case TensorType::Q3_K:
    return 110;
  case TensorType::Q4_K:
    return 144;
  case TensorType::Q5_K:
    return 176;
  case TensorType::Q6_K:
    return 210;
  case TensorType::Q8_K:
    return 292;
  }
  return 1;
}

bool qpal::model::isBlockQuantized(TensorType type) {
  return getBlockElements(type) > 1;
}

namespace {
// ggml-common.h's block_q4_0 .. block_q8_0.
constexpr ScaledBlockLayout kQ4_0{/*min=*/-1, /*highBits=*/-1, /*codes=*/2,
                                  /*codeBits=*/4, /*zero=*/8};
constexpr ScaledBlockLayout kQ4_1{2, -1, 4, 4, 0};
constexpr ScaledBlockLayout kQ5_0{-1, 2, 6, 5, 16};
constexpr ScaledBlockLayout kQ5_1{2, 4, 8, 5, 0};
constexpr ScaledBlockLayout kQ8_0{-1, -1, 2, 8, 0};
} // namespace

std::optional<ScaledBlockLayout>
qpal::model::getScaledBlockLayout(TensorType type) {
  switch (type) {
  case TensorType::Q4_0:
    return kQ4_0;
  case TensorType::Q4_1:
    return kQ4_1;
  case TensorType::Q5_0:
    return kQ5_0;
  case TensorType::Q5_1:
    return kQ5_1;
  case TensorType::Q8_0:
    return kQ8_0;
  default:
    return std::nullopt;
  }
}

bool qpal::model::isScaledBlockFormat(TensorType type) {
  return getScaledBlockLayout(type).has_value();
}

std::optional<TensorType> qpal::model::tensorTypeFromName(StringRef name) {
  for (uint32_t id = 0; id <= 30; ++id)
    if (std::optional<TensorType> type = tensorTypeFromGgmlId(id);
        type && getTensorTypeName(*type) == name)
      return type;
  for (TensorType type : {TensorType::U8, TensorType::Bool, TensorType::F8E4M3,
                          TensorType::F8E5M2})
    if (getTensorTypeName(type) == name)
      return type;
  return std::nullopt;
}

std::optional<int64_t> qpal::model::getStorageBytes(TensorType type,
                                                    int64_t numElements) {
  int64_t blockElements = getBlockElements(type);
  if (numElements < 0 || numElements % blockElements != 0)
    return std::nullopt;
  int64_t blocks = numElements / blockElements;
  int64_t blockBytes = getBlockBytes(type);
  if (blocks > std::numeric_limits<int64_t>::max() / blockBytes)
    return std::nullopt;
  return blocks * blockBytes;
}

float qpal::model::halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  uint32_t result;
  if (exponent == 0x1f) {
    result = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent != 0) {
    result = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    result = sign;
  } else {
    // Subnormal half: normalize the mantissa into a float exponent.
    exponent = 113;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      --exponent;
    }
    result = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
  }
  float value;
  std::memcpy(&value, &result, sizeof(value));
  return value;
}

float qpal::model::bfloat16ToFloat(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

namespace {

template <typename T> T load(const uint8_t *p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

float loadHalf(const uint8_t *p) { return halfToFloat(load<uint16_t>(p)); }

float f8e4m3ToFloat(uint8_t bits) {
  // The "fn" variant: no infinities, S.1111.111 is NaN, bias 7.
  float sign = (bits & 0x80) ? -1.0f : 1.0f;
  int exponent = (bits >> 3) & 0xf;
  int mantissa = bits & 0x7;
  if (exponent == 0xf && mantissa == 0x7)
    return std::numeric_limits<float>::quiet_NaN();
  if (exponent == 0)
    return sign * std::ldexp(static_cast<float>(mantissa) / 8.0f, -6);
  return sign *
         std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
}

/// ggml's `get_scale_min_k4`: the 6-bit scale and min of sub-block `j` of a
/// Q4_K or Q5_K super-block.
void getScaleMinK4(int j, const uint8_t *q, uint8_t &scale, uint8_t &min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

void dequantQ4_0(const uint8_t *b, float *y) {
  float d = loadHalf(b);
  const uint8_t *qs = b + kQ4_0.codes;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((qs[j] & 0x0F) - kQ4_0.zero) * d;
    y[j + 16] = static_cast<float>((qs[j] >> 4) - kQ4_0.zero) * d;
  }
}

void dequantQ4_1(const uint8_t *b, float *y) {
  float d = loadHalf(b), m = loadHalf(b + kQ4_1.min);
  const uint8_t *qs = b + kQ4_1.codes;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
    y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

void dequantQ5_0(const uint8_t *b, float *y) {
  float d = loadHalf(b);
  uint32_t qh = load<uint32_t>(b + kQ5_0.highBits);
  const uint8_t *qs = b + kQ5_0.codes;
  for (int j = 0; j < 16; ++j) {
    uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
    uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
    int32_t x0 = ((qs[j] & 0x0F) | xh0) - kQ5_0.zero;
    int32_t x1 = ((qs[j] >> 4) | xh1) - kQ5_0.zero;
    y[j] = static_cast<float>(x0) * d;
    y[j + 16] = static_cast<float>(x1) * d;
  }
}

void dequantQ5_1(const uint8_t *b, float *y) {
  float d = loadHalf(b), m = loadHalf(b + kQ5_1.min);
  uint32_t qh = load<uint32_t>(b + kQ5_1.highBits);
  const uint8_t *qs = b + kQ5_1.codes;
  for (int j = 0; j < 16; ++j) {
    uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
    uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
    int32_t x0 = (qs[j] & 0x0F) | xh0;
    int32_t x1 = (qs[j] >> 4) | xh1;
    y[j] = static_cast<float>(x0) * d + m;
    y[j + 16] = static_cast<float>(x1) * d + m;
  }
}

void dequantQ8_0(const uint8_t *b, float *y) {
  float d = loadHalf(b);
  const int8_t *qs = reinterpret_cast<const int8_t *>(b + kQ8_0.codes);
  for (int j = 0; j < 32; ++j)
    y[j] = static_cast<float>(qs[j]) * d;
}

void dequantQ2_K(const uint8_t *b, float *y) {
  const uint8_t *scales = b;
  const uint8_t *q = b + 16;
  float d = loadHalf(b + 80), min = loadHalf(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128) {
    int shift = 0;
    for (int j = 0; j < 4; ++j) {
      uint8_t sc = scales[is++];
      float dl = d * static_cast<float>(sc & 0xF);
      float ml = min * static_cast<float>(sc >> 4);
      for (int l = 0; l < 16; ++l)
        *y++ = dl * static_cast<float>((q[l] >> shift) & 3) - ml;
      sc = scales[is++];
      dl = d * static_cast<float>(sc & 0xF);
      ml = min * static_cast<float>(sc >> 4);
      for (int l = 0; l < 16; ++l)
        *y++ = dl * static_cast<float>((q[l + 16] >> shift) & 3) - ml;
      shift += 2;
    }
    q += 32;
  }
}

void dequantQ3_K(const uint8_t *b, float *y) {
  const uint8_t *hm = b;
  const uint8_t *q = b + 32;
  const uint8_t *rawScales = b + 96;
  float dAll = loadHalf(b + 108);
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  uint32_t aux[4];
  std::memcpy(aux, rawScales, 12);
  uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
  aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
  aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
  aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
  int8_t scales[16];
  std::memcpy(scales, aux, 16);
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < 256; n += 128) {
    int shift = 0;
    for (int j = 0; j < 4; ++j) {
      float dl = dAll * static_cast<float>(scales[is++] - 32);
      for (int l = 0; l < 16; ++l)
        *y++ = dl * static_cast<float>(((q[l] >> shift) & 3) -
                                       ((hm[l] & m) ? 0 : 4));
      dl = dAll * static_cast<float>(scales[is++] - 32);
      for (int l = 0; l < 16; ++l)
        *y++ = dl * static_cast<float>(((q[l + 16] >> shift) & 3) -
                                       ((hm[l + 16] & m) ? 0 : 4));
      shift += 2;
      m <<= 1;
    }
    q += 32;
  }
}

void dequantQ4_K(const uint8_t *b, float *y) {
  float d = loadHalf(b), min = loadHalf(b + 2);
  const uint8_t *scales = b + 4;
  const uint8_t *q = b + 16;
  int is = 0;
  uint8_t sc, m;
  for (int j = 0; j < 256; j += 64) {
    getScaleMinK4(is + 0, scales, sc, m);
    float d1 = d * sc, m1 = min * m;
    getScaleMinK4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = min * m;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    q += 32;
    is += 2;
  }
}

void dequantQ5_K(const uint8_t *b, float *y) {
  float d = loadHalf(b), min = loadHalf(b + 2);
  const uint8_t *scales = b + 4;
  const uint8_t *qh = b + 16;
  const uint8_t *ql = b + 48;
  int is = 0;
  uint8_t sc, m;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < 256; j += 64) {
    getScaleMinK4(is + 0, scales, sc, m);
    float d1 = d * sc, m1 = min * m;
    getScaleMinK4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = min * m;
    for (int l = 0; l < 32; ++l)
      *y++ =
          d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    ql += 32;
    is += 2;
    u1 <<= 2;
    u2 <<= 2;
  }
}

void dequantQ6_K(const uint8_t *b, float *y) {
  const uint8_t *ql = b;
  const uint8_t *qh = b + 128;
  const int8_t *sc = reinterpret_cast<const int8_t *>(b + 192);
  float d = loadHalf(b + 208);
  for (int n = 0; n < 256; n += 128) {
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 =
          static_cast<int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) -
          32;
      int q2 =
          static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) -
          32;
      int q3 =
          static_cast<int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) -
          32;
      int q4 =
          static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) -
          32;
      y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

void dequantQ8_K(const uint8_t *b, float *y) {
  float d = load<float>(b);
  const int8_t *qs = reinterpret_cast<const int8_t *>(b + 4);
  for (int j = 0; j < 256; ++j)
    y[j] = d * static_cast<float>(qs[j]);
}

} // namespace

Error qpal::model::dequantize(TensorType type, ArrayRef<uint8_t> data,
                              MutableArrayRef<float> out) {
  int64_t n = static_cast<int64_t>(out.size());
  std::optional<int64_t> bytes = getStorageBytes(type, n);
  if (!bytes)
    return llvm::createStringError(
        llvm::formatv("{0} elements are not a whole number of {1} blocks of "
                      "{2}",
                      n, getTensorTypeName(type), getBlockElements(type)));
  if (*bytes != static_cast<int64_t>(data.size()))
    return llvm::createStringError(
        llvm::formatv("{0} elements of {1} take {2} bytes, got {3}", n,
                      getTensorTypeName(type), *bytes, data.size()));
  // An empty tensor decodes to nothing (and its buffers may be null, which
  // memcpy must not be given: a fuzz finding).
  if (n == 0)
    return Error::success();
  const uint8_t *src = data.data();
  float *dst = out.data();
  int64_t blockBytes = getBlockBytes(type);
  int64_t blockElements = getBlockElements(type);
  auto forEachBlock = [&](void (*decode)(const uint8_t *, float *)) {
    for (int64_t i = 0, e = n / blockElements; i < e; ++i)
      decode(src + i * blockBytes, dst + i * blockElements);
  };
  switch (type) {
  case TensorType::F32:
    std::memcpy(dst, src, n * sizeof(float));
    return Error::success();
  case TensorType::F16:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = loadHalf(src + 2 * i);
    return Error::success();
  case TensorType::BF16:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = bfloat16ToFloat(load<uint16_t>(src + 2 * i));
    return Error::success();
  case TensorType::F64:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = static_cast<float>(load<double>(src + 8 * i));
    return Error::success();
  case TensorType::I8:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = static_cast<float>(static_cast<int8_t>(src[i]));
    return Error::success();
  case TensorType::U8:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = static_cast<float>(src[i]);
    return Error::success();
  case TensorType::I16:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = static_cast<float>(load<int16_t>(src + 2 * i));
    return Error::success();
  case TensorType::I32:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = static_cast<float>(load<int32_t>(src + 4 * i));
    return Error::success();
  case TensorType::I64:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = static_cast<float>(load<int64_t>(src + 8 * i));
    return Error::success();
  case TensorType::F8E4M3:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = f8e4m3ToFloat(src[i]);
    return Error::success();
  case TensorType::F8E5M2:
    // E5M2 is the upper byte of an IEEE half.
    for (int64_t i = 0; i < n; ++i)
      dst[i] = halfToFloat(static_cast<uint16_t>(src[i]) << 8);
    return Error::success();
  case TensorType::Bool:
    return llvm::createStringError("bool tensors cannot be read as float");
  case TensorType::Q4_0:
    forEachBlock(dequantQ4_0);
    return Error::success();
  case TensorType::Q4_1:
    forEachBlock(dequantQ4_1);
    return Error::success();
  case TensorType::Q5_0:
    forEachBlock(dequantQ5_0);
    return Error::success();
  case TensorType::Q5_1:
    forEachBlock(dequantQ5_1);
    return Error::success();
  case TensorType::Q8_0:
    forEachBlock(dequantQ8_0);
    return Error::success();
  case TensorType::Q2_K:
    forEachBlock(dequantQ2_K);
    return Error::success();
  case TensorType::Q3_K:
    forEachBlock(dequantQ3_K);
    return Error::success();
  case TensorType::Q4_K:
    forEachBlock(dequantQ4_K);
    return Error::success();
  case TensorType::Q5_K:
    forEachBlock(dequantQ5_K);
    return Error::success();
  case TensorType::Q6_K:
    forEachBlock(dequantQ6_K);
    return Error::success();
  case TensorType::Q8_K:
    forEachBlock(dequantQ8_K);
    return Error::success();
  }
  return llvm::createStringError("unknown tensor type");
}

Error qpal::model::readTensorValues(StringRef path, StringRef name,
                                    TensorType type, int64_t numElements,
                                    ArrayRef<uint8_t> data,
                                    MutableArrayRef<float> out) {
  if (static_cast<int64_t>(out.size()) != numElements)
    return llvm::createStringError(
        llvm::formatv("{0}: tensor '{1}' has {2} elements, the buffer {3}",
                      path, name, numElements, out.size()));
  if (Error err = dequantize(type, data, out))
    return llvm::createStringError(path + ": tensor '" + name +
                                   "': " + llvm::toString(std::move(err)));
  return Error::success();
}
