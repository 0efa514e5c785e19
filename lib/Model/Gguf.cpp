//===- Gguf.cpp - A lazy, memory-mapped GGUF reader -----------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Layout (all little-endian): magic "GGUF", uint32 version, uint64 tensor
// count, uint64 metadata count, the metadata pairs (gguf string key, uint32
// type, value), the tensor infos (name, uint32 n_dims, uint64 dims[n_dims],
// uint32 ggml type, uint64 offset), padding to `general.alignment`, then the
// data section. A gguf string is a uint64 length and that many bytes.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Gguf.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>
#include <limits>

using namespace qpal::model;
using llvm::ArrayRef;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

StringRef qpal::model::getGgufValueTypeName(GgufValueType type) {
  switch (type) {
  case GgufValueType::UInt8:
    return "uint8";
  case GgufValueType::Int8:
    return "int8";
  case GgufValueType::UInt16:
    return "uint16";
  case GgufValueType::Int16:
    return "int16";
  case GgufValueType::UInt32:
    return "uint32";
  case GgufValueType::Int32:
    return "int32";
  case GgufValueType::Float32:
    return "float32";
  case GgufValueType::Bool:
    return "bool";
  case GgufValueType::String:
    return "string";
  case GgufValueType::Array:
    return "array";
  case GgufValueType::UInt64:
    return "uint64";
  case GgufValueType::Int64:
    return "int64";
  case GgufValueType::Float64:
    return "float64";
  }
  return "unknown";
}

namespace {

/// Returns the size of a fixed-size value type, 0 for strings and arrays.
size_t getScalarSize(GgufValueType type) {
  switch (type) {
  case GgufValueType::UInt8:
  case GgufValueType::Int8:
  case GgufValueType::Bool:
    return 1;
  case GgufValueType::UInt16:
  case GgufValueType::Int16:
    return 2;
  case GgufValueType::UInt32:
  case GgufValueType::Int32:
  case GgufValueType::Float32:
    return 4;
  case GgufValueType::UInt64:
  case GgufValueType::Int64:
  case GgufValueType::Float64:
    return 8;
  case GgufValueType::String:
  case GgufValueType::Array:
    return 0;
  }
  return 0;
}

bool isKnownValueType(uint32_t tag) { return tag <= 12; }

/// Decodes a scalar of `type` stored in the low bytes of `bits`.
std::optional<int64_t> scalarAsInteger(GgufValueType type, uint64_t bits) {
  switch (type) {
  case GgufValueType::UInt8:
    return static_cast<int64_t>(static_cast<uint8_t>(bits));
  case GgufValueType::Int8:
    return static_cast<int64_t>(static_cast<int8_t>(bits));
  case GgufValueType::UInt16:
    return static_cast<int64_t>(static_cast<uint16_t>(bits));
  case GgufValueType::Int16:
    return static_cast<int64_t>(static_cast<int16_t>(bits));
  case GgufValueType::UInt32:
    return static_cast<int64_t>(static_cast<uint32_t>(bits));
  case GgufValueType::Int32:
    return static_cast<int64_t>(static_cast<int32_t>(bits));
  case GgufValueType::Bool:
    return static_cast<int64_t>(bits != 0);
  case GgufValueType::UInt64:
    if (bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return static_cast<int64_t>(bits);
  case GgufValueType::Int64:
    return static_cast<int64_t>(bits);
  default:
    return std::nullopt;
  }
}

std::optional<double> scalarAsDouble(GgufValueType type, uint64_t bits) {
  if (type == GgufValueType::Float32) {
    float value;
    uint32_t narrow = static_cast<uint32_t>(bits);
    std::memcpy(&value, &narrow, sizeof(value));
    return value;
  }
  if (type == GgufValueType::Float64) {
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
  }
  if (type == GgufValueType::Bool)
    return std::nullopt;
  if (std::optional<int64_t> integer = scalarAsInteger(type, bits))
    return static_cast<double>(*integer);
  if (type == GgufValueType::UInt64)
    return static_cast<double>(bits);
  return std::nullopt;
}

} // namespace

std::optional<int64_t> GgufValue::getAsInteger() const {
  if (type == GgufValueType::Bool)
    return std::nullopt;
  return scalarAsInteger(type, bits);
}

std::optional<double> GgufValue::getAsDouble() const {
  return scalarAsDouble(type, bits);
}

std::optional<bool> GgufValue::getAsBool() const {
  if (type != GgufValueType::Bool)
    return std::nullopt;
  return bits != 0;
}

std::optional<StringRef> GgufValue::getAsString() const {
  if (type != GgufValueType::String)
    return std::nullopt;
  return string;
}

std::optional<std::vector<int64_t>> GgufValue::getIntegerArray() const {
  if (!isArray() || elementType == GgufValueType::String ||
      elementType == GgufValueType::Float32 ||
      elementType == GgufValueType::Float64)
    return std::nullopt;
  size_t size = getScalarSize(elementType);
  std::vector<int64_t> result;
  result.reserve(arraySize);
  for (uint64_t i = 0; i < arraySize; ++i) {
    uint64_t elementBits = 0;
    std::memcpy(&elementBits, arrayBytes.data() + i * size, size);
    std::optional<int64_t> value = scalarAsInteger(elementType, elementBits);
    if (!value)
      return std::nullopt;
    result.push_back(*value);
  }
  return result;
}

std::optional<std::vector<float>> GgufValue::getFloatArray() const {
  if (!isArray() || elementType == GgufValueType::String ||
      elementType == GgufValueType::Bool)
    return std::nullopt;
  size_t size = getScalarSize(elementType);
  std::vector<float> result;
  result.reserve(arraySize);
  for (uint64_t i = 0; i < arraySize; ++i) {
    uint64_t elementBits = 0;
    std::memcpy(&elementBits, arrayBytes.data() + i * size, size);
    result.push_back(
        static_cast<float>(*scalarAsDouble(elementType, elementBits)));
  }
  return result;
}

namespace qpal::model {

/// Reads the file front to back with a bounds-checked cursor.
class GgufParser {
public:
  explicit GgufParser(GgufFile &file)
      : file(file),
        data(reinterpret_cast<const uint8_t *>(file.buffer->getBufferStart())),
        size(file.buffer->getBufferSize()) {}

  Error parse();

private:
  Error fail(const llvm::Twine &message) const {
    return llvm::createStringError(file.getPath() + ": " + message);
  }
  Error truncated(StringRef what, uint64_t need) const {
    return fail(llvm::formatv("truncated file: reading {0} at offset {1} "
                              "needs {2} bytes, the file has {3}",
                              what, pos, need, size));
  }
  uint64_t remaining() const { return size - pos; }

  template <typename T> Error read(T &value, StringRef what) {
    if (remaining() < sizeof(T))
      return truncated(what, sizeof(T));
    std::memcpy(&value, data + pos, sizeof(T));
    pos += sizeof(T);
    return Error::success();
  }
  Error readString(StringRef &value, StringRef what);
  Error readValue(GgufValue &value, GgufValueType type, StringRef key);

  GgufFile &file;
  const uint8_t *data;
  uint64_t size;
  uint64_t pos = 0;
};

} // namespace qpal::model

Error GgufParser::readString(StringRef &value, StringRef what) {
  uint64_t length;
  if (Error err = read(length, what))
    return err;
  if (length > remaining())
    return fail(llvm::formatv("truncated file: {0} at offset {1} claims {2} "
                              "bytes, only {3} remain",
                              what, pos - 8, length, remaining()));
  value = StringRef(reinterpret_cast<const char *>(data + pos), length);
  pos += length;
  return Error::success();
}

Error GgufParser::readValue(GgufValue &value, GgufValueType type,
                            StringRef key) {
  value.type = type;
  std::string what = ("the value of '" + key + "'").str();
  if (type == GgufValueType::String)
    return readString(value.string, what);
  if (type != GgufValueType::Array) {
    size_t scalarSize = getScalarSize(type);
    if (remaining() < scalarSize)
      return truncated(what, scalarSize);
    std::memcpy(&value.bits, data + pos, scalarSize);
    pos += scalarSize;
    return Error::success();
  }
  uint32_t elementTag;
  uint64_t count;
  if (Error err = read(elementTag, what))
    return err;
  if (!isKnownValueType(elementTag))
    return fail(llvm::formatv("metadata '{0}' is an array of unknown value "
                              "type {1}",
                              key, elementTag));
  GgufValueType elementType = static_cast<GgufValueType>(elementTag);
  if (elementType == GgufValueType::Array)
    return fail(llvm::formatv("metadata '{0}' is an array of arrays, which "
                              "GGUF readers do not support",
                              key));
  if (Error err = read(count, what))
    return err;
  value.elementType = elementType;
  value.arraySize = count;
  if (elementType == GgufValueType::String) {
    // Every string takes at least its 8-byte length: reject absurd counts
    // before reserving memory for them.
    if (count > remaining() / 8)
      return fail(llvm::formatv("metadata '{0}' claims {1} strings, more than "
                                "the {2} remaining bytes can hold",
                                key, count, remaining()));
    value.strings.resize(count);
    for (uint64_t i = 0; i < count; ++i)
      if (Error err = readString(value.strings[i], what))
        return err;
    return Error::success();
  }
  size_t elementSize = getScalarSize(elementType);
  if (count > remaining() / elementSize)
    return fail(llvm::formatv("metadata '{0}' claims {1} elements of {2}, "
                              "more than the {3} remaining bytes can hold",
                              key, count, getGgufValueTypeName(elementType),
                              remaining()));
  value.arrayBytes = ArrayRef<uint8_t>(data + pos, count * elementSize);
  pos += count * elementSize;
  return Error::success();
}

Error GgufParser::parse() {
  uint32_t magic;
  if (Error err = read(magic, "the magic"))
    return err;
  if (std::memcmp(data, "GGUF", 4) != 0)
    return fail(llvm::formatv("not a GGUF file: bad magic {0:x8}", magic));
  if (Error err = read(file.version, "the version"))
    return err;
  if (file.version != 2 && file.version != 3) {
    if ((file.version & 0xffff) == 0 && file.version != 0)
      return fail("big-endian GGUF files are not supported");
    return fail(llvm::formatv("unsupported GGUF version {0}, expected 2 or 3",
                              file.version));
  }
  uint64_t tensorCount, metadataCount;
  if (Error err = read(tensorCount, "the tensor count"))
    return err;
  if (Error err = read(metadataCount, "the metadata count"))
    return err;
  // A key/value pair takes at least 8 + 4 + 1 bytes; a tensor info at least
  // 8 + 4 + 4 + 8.
  if (metadataCount > remaining() / 13)
    return fail(llvm::formatv("metadata count {0} exceeds what the {1} "
                              "remaining bytes can hold",
                              metadataCount, remaining()));
  if (tensorCount > remaining() / 24)
    return fail(llvm::formatv("tensor count {0} exceeds what the {1} "
                              "remaining bytes can hold",
                              tensorCount, remaining()));

  file.metadata.reserve(metadataCount);
  for (uint64_t i = 0; i < metadataCount; ++i) {
    StringRef key;
    if (Error err =
            readString(key, llvm::formatv("metadata key #{0}", i).str()))
      return err;
    uint32_t tag;
    if (Error err = read(tag, ("the type of '" + key + "'").str()))
      return err;
    if (!isKnownValueType(tag))
      return fail(
          llvm::formatv("metadata '{0}' has unknown value type {1}", key, tag));
    GgufValue value;
    if (Error err = readValue(value, static_cast<GgufValueType>(tag), key))
      return err;
    if (!file.metadataIndex.try_emplace(key, file.metadata.size()).second)
      return fail(llvm::formatv("duplicate metadata key '{0}'", key));
    file.metadata.emplace_back(key.str(), std::move(value));
  }

  if (const GgufValue *alignment = file.lookup("general.alignment")) {
    std::optional<int64_t> value = alignment->getAsInteger();
    if (!value || alignment->getType() != GgufValueType::UInt32)
      return fail(llvm::formatv("general.alignment must be a uint32, got {0}",
                                getGgufValueTypeName(alignment->getType())));
    if (*value <= 0 || !llvm::isPowerOf2_64(*value))
      return fail(llvm::formatv("general.alignment must be a nonzero power of "
                                "two, got {0}",
                                *value));
    file.alignment = *value;
  }

  file.tensors.reserve(tensorCount);
  for (uint64_t i = 0; i < tensorCount; ++i) {
    GgufTensorInfo info;
    StringRef name;
    if (Error err =
            readString(name, llvm::formatv("tensor name #{0}", i).str()))
      return err;
    info.name = name.str();
    std::string what = ("tensor '" + name + "'").str();
    uint32_t numDims;
    if (Error err = read(numDims, what))
      return err;
    if (numDims > 4)
      return fail(llvm::formatv("tensor '{0}' has {1} dimensions, at most 4 "
                                "are supported",
                                name, numDims));
    int64_t numElements = 1;
    for (uint32_t d = 0; d < numDims; ++d) {
      uint64_t dim;
      if (Error err = read(dim, what))
        return err;
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (dim != 0 && numElements > std::numeric_limits<int64_t>::max() /
                                         static_cast<int64_t>(dim)))
        return fail(llvm::formatv("tensor '{0}' has a dimension {1} whose "
                                  "element count overflows",
                                  name, dim));
      info.dims.push_back(static_cast<int64_t>(dim));
      numElements *= static_cast<int64_t>(dim);
    }
    uint32_t typeId;
    if (Error err = read(typeId, what))
      return err;
    std::optional<TensorType> type = tensorTypeFromGgmlId(typeId);
    if (!type)
      return fail(llvm::formatv("tensor '{0}' has unknown or unsupported ggml "
                                "type {1}",
                                name, typeId));
    info.type = *type;
    if (Error err = read(info.offset, what))
      return err;
    int64_t blockElements = getBlockElements(info.type);
    int64_t rowElements = info.dims.empty() ? 1 : info.dims[0];
    if (rowElements % blockElements != 0)
      return fail(llvm::formatv("tensor '{0}' has rows of {1} elements, not a "
                                "multiple of the {2} block size {3}",
                                name, rowElements, getTensorTypeName(info.type),
                                blockElements));
    std::optional<int64_t> bytes = getStorageBytes(info.type, numElements);
    if (!bytes)
      return fail(llvm::formatv("tensor '{0}' of {1} elements overflows its "
                                "byte size",
                                name, numElements));
    info.numElements = numElements;
    info.numBytes = *bytes;
    if (!file.tensorIndex.try_emplace(name, file.tensors.size()).second)
      return fail(llvm::formatv("duplicate tensor name '{0}'", name));
    file.tensors.push_back(std::move(info));
  }

  // The data section starts at the next multiple of the alignment.
  uint64_t dataOffset = llvm::alignTo(pos, file.alignment);
  if (dataOffset < pos) // wrapped around
    return fail("the data section offset overflows");
  file.dataOffset = dataOffset;
  uint64_t dataSize = dataOffset <= size ? size - dataOffset : 0;
  for (const GgufTensorInfo &info : file.tensors) {
    if (info.offset % file.alignment != 0)
      return fail(llvm::formatv("tensor '{0}' data offset {1} is not a "
                                "multiple of the alignment {2}",
                                info.name, info.offset, file.alignment));
    uint64_t bytes = static_cast<uint64_t>(info.numBytes);
    if (info.offset > dataSize || bytes > dataSize - info.offset)
      return fail(llvm::formatv("tensor '{0}' data [{1}, {1} + {2}) lies "
                                "outside the data section of {3} bytes",
                                info.name, info.offset, bytes, dataSize));
  }
  return Error::success();
}

Expected<std::unique_ptr<GgufFile>>
GgufFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->buffer = std::move(buffer);
  GgufParser parser(*file);
  if (Error err = parser.parse())
    return std::move(err);
  return std::move(file);
}

Expected<std::unique_ptr<GgufFile>> GgufFile::open(StringRef path) {
  // Map the file read-only; tensors are only paged in when read.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot open '" + path +
                                       "': " + buffer.getError().message());
  return parse(std::move(*buffer));
}

const GgufValue *GgufFile::lookup(StringRef key) const {
  auto it = metadataIndex.find(key);
  return it == metadataIndex.end() ? nullptr : &metadata[it->second].second;
}

Expected<int64_t> GgufFile::getInteger(StringRef key) const {
  const GgufValue *value = lookup(key);
  if (!value)
    return llvm::createStringError(getPath() + ": missing metadata '" + key +
                                   "'");
  if (std::optional<int64_t> integer = value->getAsInteger())
    return *integer;
  return llvm::createStringError(
      llvm::formatv("{0}: metadata '{1}' must be an integer, got {2}",
                    getPath(), key, getGgufValueTypeName(value->getType())));
}

Expected<double> GgufFile::getDouble(StringRef key) const {
  const GgufValue *value = lookup(key);
  if (!value)
    return llvm::createStringError(getPath() + ": missing metadata '" + key +
                                   "'");
  if (std::optional<double> number = value->getAsDouble())
    return *number;
  return llvm::createStringError(
      llvm::formatv("{0}: metadata '{1}' must be a number, got {2}", getPath(),
                    key, getGgufValueTypeName(value->getType())));
}

Expected<StringRef> GgufFile::getString(StringRef key) const {
  const GgufValue *value = lookup(key);
  if (!value)
    return llvm::createStringError(getPath() + ": missing metadata '" + key +
                                   "'");
  if (std::optional<StringRef> string = value->getAsString())
    return *string;
  return llvm::createStringError(
      llvm::formatv("{0}: metadata '{1}' must be a string, got {2}", getPath(),
                    key, getGgufValueTypeName(value->getType())));
}

const GgufTensorInfo *GgufFile::lookupTensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensors[it->second];
}

ArrayRef<uint8_t> GgufFile::getTensorData(const GgufTensorInfo &tensor) const {
  const uint8_t *start =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  return ArrayRef<uint8_t>(start + dataOffset + tensor.offset,
                           static_cast<size_t>(tensor.numBytes));
}

Error GgufFile::readTensor(const GgufTensorInfo &tensor,
                           llvm::MutableArrayRef<float> out) const {
  return readTensorValues(getPath(), tensor.name, tensor.type,
                          tensor.numElements, getTensorData(tensor), out);
}
