//===- LayerCache.h - Quantized layers kept between compilations -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Encoding a layer is the slow part of a compilation (a 576 x 1536 trellis
// layer takes seconds); compiling another plan of the same model should
// re-encode only the layers whose choice changed. A `LayerCache` is a
// directory of `QuantizedLayer`s, one file each, named by the SHA-256 of
// everything that determines the result: the weight values and shape, the
// quantizer's reference name, the rotation seed, the calibration Hessian of
// `hess` quantizers, and this file format's version. A file is written
// atomically (a temporary file renamed) and checked when read (its own key,
// size, fields, an xxh3 checksum of its payload); a damaged, renamed or
// foreign file is a miss, never an error, and is replaced by the next
// store. qpal-quantize-weights emits a remark for each layer it reads.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_LAYERCACHE_H
#define QPAL_QUANT_LAYERCACHE_H

#include "qpal/Quant/Quantize.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace qpal {

class LayerCache {
public:
  /// A cache in `directory` (created on the first store).
  explicit LayerCache(std::string directory);

  /// The directory `qpal compile` uses by default: $QPAL_CACHE_DIR, else
  /// $XDG_CACHE_HOME/qpal/layers, else $HOME/.cache/qpal/layers; empty when
  /// none of them is set.
  static std::string getDefaultDirectory();

  /// The key of quantizing the rows x cols `weights` with `spec`, `seed`
  /// and (for `hess` quantizers) `hessian`: 64 hex digits.
  static std::string key(const QuantizerSpec &spec,
                         llvm::ArrayRef<float> weights, int64_t rows,
                         int64_t cols, uint64_t seed,
                         llvm::ArrayRef<double> hessian);

  /// The layer stored under `key`, if a valid file of `spec` and this shape
  /// is there.
  std::optional<QuantizedLayer> load(llvm::StringRef key,
                                     const QuantizerSpec &spec, int64_t rows,
                                     int64_t cols) const;

  /// Stores `layer` under `key`. Errors name the file.
  llvm::Error store(llvm::StringRef key, const QuantizedLayer &layer) const;

  const std::string &getDirectory() const { return directory; }

private:
  std::string path(llvm::StringRef key) const;
  std::string directory;
};

} // namespace qpal

#endif // QPAL_QUANT_LAYERCACHE_H
