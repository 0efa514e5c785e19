//===- Safetensors.h - A lazy, memory-mapped safetensors reader -*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `SafetensorsFile` reads one Hugging Face safetensors file: a little-endian
// uint64 header length N, N bytes of JSON
// (`{"name": {"dtype": "BF16", "shape": [..], "data_offsets": [b, e]}, ...,
// "__metadata__": {..}}`), then the data, with offsets relative to its start.
// The file is memory-mapped and tensors are converted to float32 on read.
// Structural problems (short file, bad header length, bad JSON, unknown dtype,
// offsets out of range or disagreeing with the shape, duplicate names)
// produce an `llvm::Error`.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_SAFETENSORS_H
#define QPAL_MODEL_SAFETENSORS_H

#include "qpal/Model/TensorType.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qpal::model {

/// One tensor of a safetensors file.
struct SafetensorsTensorInfo {
  /// The tensor's name.
  std::string name;
  /// The element type.
  TensorType type = TensorType::F32;
  /// The shape, row-major, outermost first.
  llvm::SmallVector<int64_t, 4> shape;
  /// The number of elements.
  int64_t numElements = 0;
  /// The data's start, relative to the data section.
  uint64_t begin = 0;
  /// The data's end (exclusive), relative to the data section.
  uint64_t end = 0;
};

/// A parsed, memory-mapped safetensors file.
class SafetensorsFile {
public:
  /// Maps and parses the file at `path`.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  open(llvm::StringRef path);
  /// Parses `buffer`, which the file takes ownership of.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// Returns the file name the buffer was read from.
  llvm::StringRef getPath() const { return buffer->getBufferIdentifier(); }
  /// Returns the tensors, sorted by data offset.
  llvm::ArrayRef<SafetensorsTensorInfo> getTensors() const { return tensors; }
  /// Returns the tensor named `name`, or null.
  const SafetensorsTensorInfo *lookupTensor(llvm::StringRef name) const;
  /// Returns the string pairs of `__metadata__`.
  const std::map<std::string, std::string> &getMetadata() const {
    return metadata;
  }
  /// Returns the raw bytes of `tensor`.
  llvm::ArrayRef<uint8_t>
  getTensorData(const SafetensorsTensorInfo &tensor) const;
  /// Converts `tensor` to float32 into `out`, which must hold its elements.
  llvm::Error readTensor(const SafetensorsTensorInfo &tensor,
                         llvm::MutableArrayRef<float> out) const;

private:
  SafetensorsFile() = default;
  llvm::Error parseHeader();

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint64_t dataOffset = 0;
  std::vector<SafetensorsTensorInfo> tensors;
  llvm::StringMap<size_t> tensorIndex;
  std::map<std::string, std::string> metadata;
};

} // namespace qpal::model

#endif // QPAL_MODEL_SAFETENSORS_H
