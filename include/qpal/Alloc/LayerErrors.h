//===- LayerErrors.h - Per-layer errors measured on a model -----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// MSQ's objective is sum_l a_l * err_l(q_l). Without data err_l(q) is one
// number per quantizer (its normalized MSE on a Gaussian source). With
// calibration Hessians the rounding adapts to each layer's inputs (LDLQ), so
// err depends on the layer: `qpal layer-errors` measures, for a few
// quantizers, every layer's
//
//   err_l(q) = tr(dW H dW^T) * cols / (||W||_F^2 * tr(H))
//
// (dW the quantization error, H the layer input's second moment): the
// relative MSE of the isotropic noise that costs the same proxy loss. That
// is the unit of a_l, which `qpal sensitivity` measures with isotropic
// noise; with H = I it is the plain relative MSE.
//
// The quantizers it did not measure are modelled per layer from the
// measured ones of the same class (same rounding, same code; the trellis
// families TCQ and tcomb form one class): the ratio rho_l(b) =
// err_l(q) / gaussian(q) is interpolated linearly in log(rho) over the rate
// b in bits per weight, and held constant beyond the measured rates.
// Data-free (`none`) quantizers of a class without measurements keep their
// Gaussian error: random-rotation rounding is blind to H. Rationale:
// "Per-layer errors with Hessians".
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_ALLOC_LAYERERRORS_H
#define QPAL_ALLOC_LAYERERRORS_H

#include "qpal/Alloc/Inputs.h"

#include <array>
#include <string>
#include <vector>

namespace qpal::alloc {

/// Measured per-layer errors and the model that fills in the rest.
class LayerErrorModel {
public:
  /// Where `error` takes a quantizer's error from.
  enum class Source : uint8_t {
    /// Measured on every layer.
    Measured,
    /// Interpolated from the measured quantizers of its class.
    Modeled,
    /// The distortion table's Gaussian error (a data-free quantizer of a
    /// class without measurements).
    Gaussian,
  };

  /// Parses `qpal layer-errors` output:
  ///   {"layers": {"tcq_6_hess_0.9": {"0_self_attn.q_proj": {"error": e,
  ///    ...}, ...}, ...}, ...}
  /// Every quantizer must cover blocks 0..n-1 fully, with the same n; each
  /// error must be finite and non-negative, or the entry
  /// `{"unstorable": why}` for a layer the quantizer's layout cannot store.
  /// Errors name `source` and the offending entry.
  static llvm::Expected<LayerErrorModel> fromJson(const llvm::json::Value &json,
                                                  llvm::StringRef source);

  /// An empty model of `numBlocks` blocks named `source` (fill with `set`).
  LayerErrorModel(unsigned numBlocks = 0, std::string source = "")
      : blocks(numBlocks), sourceName(std::move(source)) {}

  /// Records the measured error of `quantizer` (any kernel kind) in one
  /// layer; layers of a measured quantizer left unset are errors in
  /// `error`.
  void set(const QuantizerSpec &quantizer, unsigned block,
           Projection projection, double error);

  /// The error of `quantizer` in layer (`block`, `projection`), measured or
  /// modelled; `gaussian` gives the Gaussian errors the model scales.
  /// Errors: a `hess` quantizer whose class has no measurement, a layer
  /// left unmeasured, a Gaussian error missing from `gaussian`.
  llvm::Expected<double> error(const QuantizerSpec &quantizer, unsigned block,
                               Projection projection,
                               const DistortionTable &gaussian) const;

  /// How `error` obtains the error of `quantizer`.
  Source sourceOf(const QuantizerSpec &quantizer) const;

  /// Blocks covered.
  unsigned numBlocks() const { return blocks; }
  /// The measured quantizers, in the order first set.
  std::vector<QuantizerSpec> measured() const;
  /// Where the values come from, for reports and errors.
  llvm::StringRef source() const { return sourceName; }

private:
  struct Entry {
    QuantizerSpec quantizer;
    /// Per block and projection; NaN where unset.
    std::vector<std::array<double, kNumProjections>> values;
  };
  const Entry *find(const QuantizerSpec &quantizer) const;
  std::vector<const Entry *> classOf(const QuantizerSpec &quantizer) const;

  unsigned blocks = 0;
  std::string sourceName;
  std::vector<Entry> entries;
};

/// Reads a `qpal layer-errors` JSON file; errors name the path.
llvm::Expected<LayerErrorModel> loadLayerErrors(llvm::StringRef path);

/// Whether `a` and `b` round the same way (same rounding, same code, and
/// the same family or both trellis codes): the class the per-layer model
/// interpolates within.
bool sameErrorClass(const QuantizerSpec &a, const QuantizerSpec &b);

} // namespace qpal::alloc

#endif // QPAL_ALLOC_LAYERERRORS_H
