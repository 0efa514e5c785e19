//===- Calibration.h - Input statistics of a model's linear layers --------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Calibration runs the model over text and records, per block and per
// linear input (q/k/v share one, gate/up one, o and down one each), and for
// the LM head's input, the
// second moment H = E[x x^T] of the input rows and their mean: what
// Hessian-aware rounding (LDLQ, beyond.md section 1) weights the rounding
// error with. A `.qpalh` file holds one model's statistics:
//
//   bytes  what
//   8      magic "QPALHESS"
//   4      format version (1), little-endian
//   4      number of inputs
//   per input:
//     4    name length, then the name ("3_qkv")
//     8    n (the input width)
//     8    tokens the statistics are averaged over
//     4n   the mean, f32
//     4n(n+1)/2  H's lower triangle row by row (H[i][j], j <= i), f32
//   8      FNV-1a 64 checksum of every byte before it
//
// The statistics are accumulated in f64 and stored in f32.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_CALIBRATION_H
#define QPAL_MODEL_CALIBRATION_H

#include "qpal/Model/Evaluator.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qpal::model {

/// One linear input's statistics over the calibration tokens.
struct InputStatistics {
  /// The input width n.
  int64_t size = 0;
  /// How many token rows were averaged.
  int64_t tokens = 0;
  /// E[x x^T], n x n, symmetric, row-major.
  std::vector<double> secondMoment;
  /// E[x], n values.
  std::vector<double> mean;
};

/// A model's input statistics, keyed "<block>_<input>" ("3_qkv", "3_o",
/// "3_up", "3_down"), and "head" for the LM head's input.
struct HessianSet {
  std::map<std::string, InputStatistics> inputs;

  /// The statistics the block linear `layerKey` ("3_self_attn.q_proj",
  /// "3_mlp.down_proj") reads, or an error naming the key.
  llvm::Expected<const InputStatistics *>
  forLinear(llvm::StringRef layerKey) const;

  /// The second moment of the input of `layerKey`, a linear with `cols`
  /// inputs; an error names a missing input or one of another width.
  llvm::Expected<llvm::ArrayRef<double>>
  secondMomentFor(llvm::StringRef layerKey, int64_t cols) const;
};

/// The key of the input the linear `layerKey` reads ("3_qkv" for
/// "3_self_attn.k_proj", "head" for "lm_head"), or an error for a key that
/// is neither a block linear nor the LM head.
llvm::Expected<std::string> getInputKey(llvm::StringRef layerKey);

/// Writes `set` to `path` in the format above, through a temporary file
/// renamed on success; errors name the file.
llvm::Error writeHessianFile(const HessianSet &set, llvm::StringRef path);

/// The bytes `writeHessianFile` writes, or an error naming an inconsistent
/// input.
llvm::Expected<std::string> serializeHessianFile(const HessianSet &set);

/// Reads a `.qpalh` file; a wrong magic or version, a truncated or
/// oversized entry, a non-finite value, a negative diagonal or a bad
/// checksum is an error that names the file and the problem.
llvm::Expected<HessianSet> readHessianFile(llvm::StringRef path);

/// Reads the bytes of a `.qpalh` file; errors name it `name`.
llvm::Expected<HessianSet> parseHessianFile(llvm::StringRef data,
                                            llvm::StringRef name);

/// How `calibrate` runs.
struct CalibrationOptions {
  /// Tokens per window (each from an empty cache).
  int64_t window = 512;
  /// Called after each window with the tokens done and the total.
  std::function<void(int64_t done, int64_t total)> progress;
};

/// Accumulates the statistics of every block's linear inputs while
/// `evaluator` runs; `observer()` is the hook to put in EvaluatorOptions.
class InputAccumulator {
public:
  InputAccumulator();
  ~InputAccumulator();
  /// The hook that records each input.
  InputObserver observer();
  /// The averages over the rows seen so far.
  HessianSet finish() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl;
};

/// Runs `evaluator` (built with `accumulator.observer()`) over `tokens` in
/// windows of `options.window` (a trailing partial window included) and
/// returns the averaged statistics. Fails on an empty token list or a
/// window beyond the evaluator's cache.
llvm::Expected<HessianSet> calibrate(Evaluator &evaluator,
                                     InputAccumulator &accumulator,
                                     llvm::ArrayRef<int32_t> tokens,
                                     const CalibrationOptions &options = {});

} // namespace qpal::model

#endif // QPAL_MODEL_CALIBRATION_H
