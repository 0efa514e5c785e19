//===- Inputs.h - Sensitivities, distortions and palettes -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The data MSQ reads besides the model shape: per-layer sensitivities a_l
// (the reference's `{"coefficients": {"0_self_attn.q_proj": a, ...}}`), the
// normalized distortion err(q) of each quantizer (`{"normalized_mse": {...}}`
// or `QuantizerSpec::expectedDistortion`), and the palettes to choose from.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_ALLOC_INPUTS_H
#define QPAL_ALLOC_INPUTS_H

#include "qpal/Alloc/ModelShape.h"
#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

#include <array>
#include <vector>

namespace qpal::alloc {

/// Per-layer loss sensitivities: loss increase ~ sum_l a_l * err(q_l).
struct Sensitivities {
  /// `coefficients[block][projection]`, finite and non-negative.
  std::vector<std::array<double, kNumProjections>> coefficients;
  /// The reference's extra `constant` (0 in the released data); reported,
  /// not optimized.
  double constant = 0;

  /// Number of blocks.
  unsigned numBlocks() const { return coefficients.size(); }
  /// The coefficient of one layer.
  double at(unsigned block, Projection projection) const {
    return coefficients[block][static_cast<unsigned>(projection)];
  }
  /// Sum of the members' coefficients of `group` in `block`.
  double groupSum(unsigned block, FusionGroup group) const;
  /// The same coefficient `value` for every layer of `numBlocks` blocks.
  static Sensitivities uniform(unsigned numBlocks, double value = 1.0);
  /// Reports a NaN, infinite or negative coefficient, naming its layer.
  llvm::Error verify() const;
};

/// Parses the reference format: an object with `coefficients` mapping every
/// `"{block}_{module}.{proj}"` key to a number (optional `constant`). Every
/// block 0..max must have all seven layers; errors name the missing or bad
/// key.
llvm::Expected<Sensitivities> parseSensitivities(const llvm::json::Value &json);
/// Reads and parses a sensitivity JSON file.
llvm::Expected<Sensitivities> loadSensitivities(llvm::StringRef path);

/// Normalized MSE per quantizer. Keys are reference names with the TC
/// kernel (a quantizer's error does not depend on the kernel kind).
class DistortionTable {
public:
  /// The reference's measurements via `QuantizerSpec::expectedDistortion`.
  static DistortionTable expected();
  /// Parses `{"normalized_mse": {"tcq_6_none_0.9": 0.0189, ...}}`; unknown
  /// quantizer names and non-finite or negative values are errors.
  static llvm::Expected<DistortionTable> fromJson(const llvm::json::Value &json,
                                                  llvm::StringRef source);
  /// Sets the error of `quantizer` (any kernel kind).
  void set(const QuantizerSpec &quantizer, double normalizedMse);
  /// The error of `quantizer`, or an error naming it and the table's source.
  llvm::Expected<double> lookup(const QuantizerSpec &quantizer) const;
  /// Where the values come from, for reports.
  llvm::StringRef source() const { return sourceName; }

private:
  bool useExpected = false;
  std::string sourceName;
  llvm::StringMap<double> values;
};

/// Reads a distortion JSON file (quantizer_distortion.json format).
llvm::Expected<DistortionTable> loadDistortionTable(llvm::StringRef path);

/// Returns a named palette:
///  - `reference-memory`: the 15 TCQ quantizers of solve_mem_const.py
///    (tcq_3..tcq_10, tcomb_3_4..tcomb_9_10);
///  - `reference-latency`: those plus ldlq_1_2..8 and ldlq_2_3..12 (32),
///    tensor-core kernels only;
///  - `reference-latency-simt`: the 32 plus the SIMT kernel of each of the
///    17 ldlq quantizers (49 choices, the reference's `--use_cc`);
///  - `full`: `referencePalette()` (34, tensor-core);
///  - each of these with `-hess` (`reference-memory-hess`): the same
///    quantizers rounded with LDLQ against calibration Hessians.
/// Otherwise `text` is a comma-separated list of quantizer names
/// (`ldlq_2_6_none_1.0:simt` selects the CUDA-core kernel).
llvm::Expected<std::vector<QuantizerSpec>> parsePalette(llvm::StringRef text);

/// Returns `palette` plus the SIMT variant of every SQ/VQ member.
std::vector<QuantizerSpec>
withSimtVariants(llvm::ArrayRef<QuantizerSpec> palette);

/// Reads a whole file as JSON; errors name the path.
llvm::Expected<llvm::json::Value> readJsonFile(llvm::StringRef path);

} // namespace qpal::alloc

#endif // QPAL_ALLOC_INPUTS_H
