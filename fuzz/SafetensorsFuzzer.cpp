//===- SafetensorsFuzzer.cpp - libFuzzer harness for safetensors ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes to the safetensors parser and converts every
// (reasonably small) tensor to float. Any error is fine; a crash or sanitizer
// report is a finding.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Safetensors.h"

#include <cstddef>
#include <cstdint>

using namespace qpal::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto file = SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBuffer(bytes, "fuzz.safetensors", false));
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  std::vector<float> values;
  for (const SafetensorsTensorInfo &tensor : (*file)->getTensors()) {
    if (tensor.numElements > (1 << 18))
      continue;
    values.resize(tensor.numElements);
    llvm::consumeError((*file)->readTensor(tensor, values));
  }
  return 0;
}
