//===- AlignedBuffer.h - Cache-line aligned arrays --------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A fixed-size array of floats aligned to 64 bytes, so that vector loads in
// the Viterbi kernels never straddle cache lines. Private to lib/Quant.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_QUANT_ALIGNEDBUFFER_H
#define QPAL_LIB_QUANT_ALIGNEDBUFFER_H

#include <cstddef>
#include <cstdlib>
#include <memory>

namespace qpal::detail {

/// `size` floats at a 64-byte aligned address (uninitialized).
class AlignedFloats {
public:
  AlignedFloats() = default;
  explicit AlignedFloats(size_t size)
      : count(size), storage(static_cast<float *>(std::aligned_alloc(
                         64, ((size * sizeof(float) + 63) / 64) * 64))) {}

  float *data() { return storage.get(); }
  const float *data() const { return storage.get(); }
  size_t size() const { return count; }
  float &operator[](size_t i) { return storage[i]; }
  const float &operator[](size_t i) const { return storage[i]; }

private:
  struct Free {
    void operator()(float *pointer) const { std::free(pointer); }
  };
  size_t count = 0;
  std::unique_ptr<float[], Free> storage;
};

} // namespace qpal::detail

#endif // QPAL_LIB_QUANT_ALIGNEDBUFFER_H
