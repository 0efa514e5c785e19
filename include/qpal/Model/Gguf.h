//===- Gguf.h - A lazy, memory-mapped GGUF reader ---------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `GgufFile` reads a GGUF file (versions 2 and 3, little-endian): its metadata
// key/value pairs (every value type, arrays included) and its tensor table.
// The file is memory-mapped and tensor data is only touched when a tensor is
// read, at which point it is dequantized to float32.
//
// Every structural rule is checked up front, so that a hostile file produces
// an `llvm::Error` that names the problem: bad magic, unsupported version,
// truncation, counts or sizes that cannot fit in the file, unknown value or
// tensor types, bad alignment, misaligned or out-of-range tensor data,
// duplicate keys or tensor names.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_GGUF_H
#define QPAL_MODEL_GGUF_H

#include "qpal/Model/TensorType.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qpal::model {

/// The type tag of a GGUF metadata value (`gguf_type` in ggml).
enum class GgufValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// Returns the name of a value type ("uint32", "string", ...).
llvm::StringRef getGgufValueTypeName(GgufValueType type);

/// One metadata value. Strings and numeric array payloads point into the
/// mapped file, so a value lives as long as its `GgufFile`.
class GgufValue {
public:
  /// Returns the value's type tag.
  GgufValueType getType() const { return type; }

  /// Returns the value as a signed integer if it is an integer of any width
  /// that fits in int64.
  std::optional<int64_t> getAsInteger() const;
  /// Returns the value as a double if it is a float or an integer.
  std::optional<double> getAsDouble() const;
  /// Returns the value if it is a bool.
  std::optional<bool> getAsBool() const;
  /// Returns the value if it is a string.
  std::optional<llvm::StringRef> getAsString() const;

  /// Returns true for arrays.
  bool isArray() const { return type == GgufValueType::Array; }
  /// Returns the element type of an array.
  GgufValueType getArrayElementType() const { return elementType; }
  /// Returns the number of elements of an array (0 for scalars).
  uint64_t getArraySize() const { return arraySize; }
  /// Returns the elements of a string array (empty for other values).
  llvm::ArrayRef<llvm::StringRef> getStringArray() const { return strings; }
  /// Returns the elements of a numeric or bool array converted to int64, or
  /// std::nullopt for string arrays, float arrays and scalars.
  std::optional<std::vector<int64_t>> getIntegerArray() const;
  /// Returns the elements of a numeric array converted to float, or
  /// std::nullopt for string and bool arrays and scalars.
  std::optional<std::vector<float>> getFloatArray() const;

private:
  friend class GgufParser;
  GgufValueType type = GgufValueType::UInt8;
  GgufValueType elementType = GgufValueType::UInt8;
  uint64_t bits = 0; // the scalar's bits, zero-extended
  llvm::StringRef string;
  uint64_t arraySize = 0;
  llvm::ArrayRef<uint8_t> arrayBytes; // numeric array payload
  std::vector<llvm::StringRef> strings;
};

/// One entry of the tensor table.
struct GgufTensorInfo {
  /// The tensor's name as stored ("blk.0.attn_q.weight").
  std::string name;
  /// The dimensions in ggml order: `dims[0]` is the innermost (contiguous)
  /// one, so a [rows x cols] matrix has dims {cols, rows}.
  llvm::SmallVector<int64_t, 4> dims;
  /// The storage type.
  TensorType type = TensorType::F32;
  /// The data offset, relative to the start of the data section.
  uint64_t offset = 0;
  /// The number of elements (the product of `dims`).
  int64_t numElements = 0;
  /// The bytes the data occupies.
  int64_t numBytes = 0;
};

/// A parsed, memory-mapped GGUF file.
class GgufFile {
public:
  /// Maps and parses the file at `path`.
  static llvm::Expected<std::unique_ptr<GgufFile>> open(llvm::StringRef path);
  /// Parses `buffer`, which the file takes ownership of.
  static llvm::Expected<std::unique_ptr<GgufFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// Returns the file's GGUF version (2 or 3).
  uint32_t getVersion() const { return version; }
  /// Returns the data alignment (`general.alignment`, 32 by default).
  uint64_t getAlignment() const { return alignment; }
  /// Returns the file name the buffer was read from.
  llvm::StringRef getPath() const { return buffer->getBufferIdentifier(); }

  /// Returns the metadata in file order.
  llvm::ArrayRef<std::pair<std::string, GgufValue>> getMetadata() const {
    return metadata;
  }
  /// Returns the value of `key`, or null.
  const GgufValue *lookup(llvm::StringRef key) const;
  /// Returns the integer value of `key`, an error if it is missing or not an
  /// integer.
  llvm::Expected<int64_t> getInteger(llvm::StringRef key) const;
  /// Returns the numeric value of `key`, an error if missing or not a number.
  llvm::Expected<double> getDouble(llvm::StringRef key) const;
  /// Returns the string value of `key`, an error if missing or not a string.
  llvm::Expected<llvm::StringRef> getString(llvm::StringRef key) const;

  /// Returns the tensor table in file order.
  llvm::ArrayRef<GgufTensorInfo> getTensors() const { return tensors; }
  /// Returns the tensor named `name` (stored name), or null.
  const GgufTensorInfo *lookupTensor(llvm::StringRef name) const;
  /// Returns the raw bytes of `tensor`'s data.
  llvm::ArrayRef<uint8_t> getTensorData(const GgufTensorInfo &tensor) const;
  /// Dequantizes `tensor` into `out`, which must hold `numElements` floats.
  llvm::Error readTensor(const GgufTensorInfo &tensor,
                         llvm::MutableArrayRef<float> out) const;

private:
  friend class GgufParser;
  GgufFile() = default;

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t dataOffset = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata;
  llvm::StringMap<size_t> metadataIndex;
  std::vector<GgufTensorInfo> tensors;
  llvm::StringMap<size_t> tensorIndex;
};

} // namespace qpal::model

#endif // QPAL_MODEL_GGUF_H
