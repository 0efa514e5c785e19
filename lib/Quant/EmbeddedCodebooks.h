//===- EmbeddedCodebooks.h - Codebook files compiled in ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The table that the generated CodebookData.cpp defines (see
// EmbedCodebooks.cmake). Private to lib/Quant.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_QUANT_EMBEDDEDCODEBOOKS_H
#define QPAL_LIB_QUANT_EMBEDDEDCODEBOOKS_H

#include <cstddef>

namespace qpal::detail {

/// One embedded file: its stem (`tcq_lut_9x2`) and raw bytes.
struct EmbeddedFile {
  const char *name;
  const unsigned char *data;
  size_t size;
};

extern const EmbeddedFile kEmbeddedCodebookFiles[];
extern const size_t kNumEmbeddedCodebookFiles;

} // namespace qpal::detail

#endif // QPAL_LIB_QUANT_EMBEDDEDCODEBOOKS_H
