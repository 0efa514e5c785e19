//===- Safetensors.cpp - A lazy, memory-mapped safetensors reader ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Safetensors.h"
#include "qpal/Support/Json.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cstring>
#include <limits>

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {
/// The safetensors format caps the header at 100 MB.
constexpr uint64_t maxHeaderBytes = 100'000'000;
/// No real tensor has more dimensions than this.
constexpr size_t maxRank = 8;

/// Returns the raw (still escaped) keys of the top-level object of `json`,
/// which must be valid JSON. llvm::json keeps only the last of duplicate
/// keys, so duplicates are found by comparing against this list.
std::vector<StringRef> getTopLevelKeys(StringRef json) {
  std::vector<StringRef> keys;
  int depth = 0;
  bool expectKey = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '"') {
      size_t start = i + 1;
      for (++i; i < json.size() && json[i] != '"'; ++i)
        if (json[i] == '\\')
          ++i;
      if (depth == 1 && expectKey)
        keys.push_back(json.slice(start, i));
      expectKey = false;
    } else if (c == '{' || c == '[') {
      ++depth;
      expectKey = c == '{' && depth == 1;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expectKey = true;
    }
  }
  return keys;
}
} // namespace

Error SafetensorsFile::parseHeader() {
  auto fail = [&](const llvm::Twine &message) {
    return llvm::createStringError(getPath() + ": " + message);
  };
  uint64_t size = buffer->getBufferSize();
  if (size < 8)
    return fail(llvm::formatv("truncated file: {0} bytes, the header length "
                              "alone needs 8",
                              size));
  uint64_t headerBytes;
  std::memcpy(&headerBytes, buffer->getBufferStart(), 8);
  if (headerBytes > maxHeaderBytes)
    return fail(llvm::formatv("header length {0} exceeds the limit of {1}",
                              headerBytes, maxHeaderBytes));
  if (headerBytes > size - 8)
    return fail(llvm::formatv("truncated file: the header claims {0} bytes, "
                              "only {1} follow",
                              headerBytes, size - 8));
  dataOffset = 8 + headerBytes;
  uint64_t dataSize = size - dataOffset;
  StringRef text(buffer->getBufferStart() + 8, headerBytes);
  Expected<llvm::json::Value> header =
      qpal::parseJsonBounded(text, "the header");
  if (!header)
    return fail("invalid header JSON: " + llvm::toString(header.takeError()));
  const llvm::json::Object *object = header->getAsObject();
  if (!object)
    return fail("the header is not a JSON object");
  std::vector<StringRef> rawKeys = getTopLevelKeys(text);
  if (rawKeys.size() != object->size()) {
    llvm::sort(rawKeys);
    auto duplicate = std::adjacent_find(rawKeys.begin(), rawKeys.end());
    return fail("duplicate tensor name '" +
                (duplicate != rawKeys.end() ? *duplicate : StringRef("?")) +
                "'");
  }

  for (const auto &[key, value] : *object) {
    StringRef name = key;
    if (name == "__metadata__") {
      const llvm::json::Object *pairs = value.getAsObject();
      if (!pairs)
        return fail("__metadata__ is not an object");
      for (const auto &[metaKey, metaValue] : *pairs) {
        std::optional<StringRef> string = metaValue.getAsString();
        if (!string)
          return fail("__metadata__ value of '" + StringRef(metaKey) +
                      "' is not a string");
        metadata[metaKey.str()] = string->str();
      }
      continue;
    }
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return fail("tensor '" + name + "' is not an object");
    SafetensorsTensorInfo info;
    info.name = name.str();
    std::optional<StringRef> dtype = entry->getString("dtype");
    if (!dtype)
      return fail("tensor '" + name + "' has no string dtype");
    std::optional<TensorType> type = tensorTypeFromSafetensorsName(*dtype);
    if (!type)
      return fail("tensor '" + name + "' has unknown dtype '" + *dtype + "'");
    info.type = *type;
    const llvm::json::Array *shape = entry->getArray("shape");
    if (!shape)
      return fail("tensor '" + name + "' has no shape array");
    if (shape->size() > maxRank)
      return fail(llvm::formatv("tensor '{0}' has rank {1}, at most {2} is "
                                "supported",
                                name, shape->size(), maxRank));
    int64_t numElements = 1;
    for (const llvm::json::Value &dim : *shape) {
      std::optional<int64_t> extent = dim.getAsInteger();
      if (!extent || *extent < 0)
        return fail("tensor '" + name +
                    "' has a shape entry that is not a non-negative integer");
      if (*extent != 0 &&
          numElements > std::numeric_limits<int64_t>::max() / *extent)
        return fail("tensor '" + name + "' element count overflows");
      info.shape.push_back(*extent);
      numElements *= *extent;
    }
    info.numElements = numElements;
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    if (!offsets || offsets->size() != 2)
      return fail("tensor '" + name + "' needs data_offsets [begin, end]");
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin)
      return fail("tensor '" + name +
                  "' has data_offsets that are not 0 <= begin <= end");
    if (static_cast<uint64_t>(*end) > dataSize)
      return fail(llvm::formatv("tensor '{0}' data [{1}, {2}) lies outside "
                                "the data section of {3} bytes",
                                name, *begin, *end, dataSize));
    std::optional<int64_t> bytes = getStorageBytes(info.type, numElements);
    if (!bytes || *bytes != *end - *begin)
      return fail(llvm::formatv("tensor '{0}' of {1} {2} elements needs {3} "
                                "bytes, data_offsets give {4}",
                                name, numElements, *dtype, bytes ? *bytes : -1,
                                *end - *begin));
    info.begin = *begin;
    info.end = *end;
    tensors.push_back(std::move(info));
  }
  llvm::sort(tensors, [](const SafetensorsTensorInfo &a,
                         const SafetensorsTensorInfo &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.name < b.name;
  });
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!tensorIndex.try_emplace(tensors[i].name, i).second)
      return fail("duplicate tensor name '" + tensors[i].name + "'");
  return Error::success();
}

Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->buffer = std::move(buffer);
  if (Error err = file->parseHeader())
    return std::move(err);
  return std::move(file);
}

Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot open '" + path +
                                       "': " + buffer.getError().message());
  return parse(std::move(*buffer));
}

const SafetensorsTensorInfo *
SafetensorsFile::lookupTensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensors[it->second];
}

llvm::ArrayRef<uint8_t>
SafetensorsFile::getTensorData(const SafetensorsTensorInfo &tensor) const {
  const uint8_t *start =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  return llvm::ArrayRef<uint8_t>(start + dataOffset + tensor.begin,
                                 tensor.end - tensor.begin);
}

Error SafetensorsFile::readTensor(const SafetensorsTensorInfo &tensor,
                                  llvm::MutableArrayRef<float> out) const {
  return readTensorValues(getPath(), tensor.name, tensor.type,
                          tensor.numElements, getTensorData(tensor), out);
}
