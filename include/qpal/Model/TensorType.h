//===- TensorType.h - Element and block types of model tensors -*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The storage types a model file may use for a tensor: the plain element types
// of safetensors and GGUF (F32, F16, BF16, ...) and the ggml block-quantized
// formats (Q4_0, Q4_1, Q8_0, the K-quants, ...). Every type knows its block
// size (elements per block, 1 for plain types) and its block size in bytes, and
// `dequantize` turns whole blocks of any of them into float32.
//
// The block layouts are ggml's (ggml/src/ggml-common.h); `dequantize` follows
// ggml's reference `dequantize_row_*` functions bit for bit in float32.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_TENSORTYPE_H
#define QPAL_MODEL_TENSORTYPE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>

namespace qpal::model {

/// A tensor storage type. The values of the ggml types are ggml's `ggml_type`
/// ids, as stored in GGUF; the types that only safetensors has come after.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
  // Safetensors-only element types.
  U8 = 1000,
  Bool = 1001,
  F8E4M3 = 1002,
  F8E5M2 = 1003,
};

/// Returns the type with ggml id `id`, or std::nullopt when qpal does not
/// know (or cannot dequantize) that ggml type.
std::optional<TensorType> tensorTypeFromGgmlId(uint32_t id);

/// Returns the type named `name` in a safetensors header ("F32", "BF16", ...),
/// or std::nullopt for an unknown name.
std::optional<TensorType> tensorTypeFromSafetensorsName(llvm::StringRef name);

/// Returns the type's name as ggml prints it ("q4_1", "f32", "bf16", ...).
llvm::StringRef getTensorTypeName(TensorType type);

/// Returns the type `getTensorTypeName` names `name`, or std::nullopt.
std::optional<TensorType> tensorTypeFromName(llvm::StringRef name);

/// Returns how many elements one block of `type` holds (1 for plain types,
/// 32 for Q4_0..Q8_0, 256 for the K-quants).
int64_t getBlockElements(TensorType type);

/// Returns the size in bytes of one block of `type`.
int64_t getBlockBytes(TensorType type);

/// Returns the bytes `numElements` elements of `type` occupy, or std::nullopt
/// when `numElements` is negative, not a whole number of blocks, or the size
/// overflows int64.
std::optional<int64_t> getStorageBytes(TensorType type, int64_t numElements);

/// Returns true when `type` is a ggml block-quantized type.
bool isBlockQuantized(TensorType type);

/// Where a block of one of ggml's scaled formats keeps its fields (byte
/// offsets from the block's start) and how a code becomes a value. The f16
/// scale d is always at offset 0. Element i's code q is the low nibble of
/// codes byte i % 16 for i < 16 and its high nibble otherwise (4- and 5-bit
/// codes), or the signed byte i (8-bit codes); a 5-bit code's fifth bit is
/// bit i of the little-endian 32-bit word at `highBits`. The value is
/// f32(q - zero) * d, plus the f16 minimum m with one.
struct ScaledBlockLayout {
  /// The f16 minimum's offset, or -1 (Q4_0, Q5_0, Q8_0).
  int64_t min;
  /// The fifth bits' offset, or -1 (4- and 8-bit codes).
  int64_t highBits;
  /// The codes' offset.
  int64_t codes;
  /// 4, 5 or 8.
  unsigned codeBits;
  /// What is subtracted from a 4- or 5-bit code (8 or 16 without a
  /// minimum, 0 with one).
  int32_t zero;
};

/// Returns the layout of ggml's 32-element blocks with one f16 scale (and,
/// for the `_1` formats, one f16 minimum) per block: Q4_0, Q4_1, Q5_0, Q5_1
/// and Q8_0; std::nullopt for any other type. A compiled model decodes
/// these in place (`qpal.weight`'s `storage`); the K-quants' nested scales
/// it does not.
std::optional<ScaledBlockLayout> getScaledBlockLayout(TensorType type);

/// Returns true when `type` has a ScaledBlockLayout.
bool isScaledBlockFormat(TensorType type);

/// Dequantizes `out.size()` elements stored as `type` in `data` into `out`.
/// `out.size()` must be a whole number of blocks and `data` must hold exactly
/// their storage bytes; otherwise (or for a type that cannot be converted to
/// float, such as Bool) returns an error.
llvm::Error dequantize(TensorType type, llvm::ArrayRef<uint8_t> data,
                       llvm::MutableArrayRef<float> out);

/// Dequantizes the `numElements` values of tensor `name` of the file at
/// `path` (both only for messages), stored as `type` in `data`, into `out`,
/// which must hold exactly that many values. Errors name the file and the
/// tensor.
llvm::Error readTensorValues(llvm::StringRef path, llvm::StringRef name,
                             TensorType type, int64_t numElements,
                             llvm::ArrayRef<uint8_t> data,
                             llvm::MutableArrayRef<float> out);

/// Converts an IEEE half-precision bit pattern to float.
float halfToFloat(uint16_t bits);

/// Converts a bfloat16 bit pattern to float.
float bfloat16ToFloat(uint16_t bits);

} // namespace qpal::model

#endif // QPAL_MODEL_TENSORTYPE_H
