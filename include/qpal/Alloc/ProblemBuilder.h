//===- ProblemBuilder.h - One MSQ problem from a user's choices -*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The one place that turns what a user asked for (budgets, a latency model,
// a palette, a distortion table, a memory model, fusion) into an
// MsqProblem: `qpal allocate` and the `qpal-allocate-bits` pass both call
// it, so that the same request is the same problem and fails with the same
// message, spelled as the user wrote the option.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_ALLOC_PROBLEMBUILDER_H
#define QPAL_ALLOC_PROBLEMBUILDER_H

#include "qpal/Alloc/Msq.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace qpal::alloc {

/// How errors name options: `--latency-table` (a command line) or
/// `'latency-table'` (a pass option).
enum class OptionSpelling : uint8_t { CommandLine, PassOption };

/// What a user asked the allocation for.
struct MsqRequest {
  /// Average bits per weight of the linear layers.
  std::optional<double> budgetBits;
  /// Predicted decode tokens per second at batch 1.
  std::optional<double> tokensPerSecond;
  /// A latency table (the reference's schema), or
  std::string latencyTable;
  /// an analytic roofline: rtx4090 or h100.
  std::string roofline;
  /// A palette name or comma-separated quantizer names; empty: `fallback`,
  /// else `reference-latency-simt` with a throughput target and
  /// `reference-memory` without.
  std::string palette;
  std::vector<QuantizerSpec> fallbackPalette;
  /// Distortion JSON (normalized_mse per quantizer); empty: the
  /// reference's measurements.
  std::string distortion;
  /// Per-layer errors (`qpal layer-errors` JSON); empty: none.
  std::string layerErrors;
  /// What the memory budget counts: full or reference.
  std::string memoryModel = "full";
  /// Let blocks fuse q/k/v and gate/up (only with a latency model, since
  /// fusion changes nothing else).
  bool fusion = true;
  OptionSpelling spelling = OptionSpelling::PassOption;
};

/// Sets the budgets, latency model, palette, distortion, memory model and
/// fusion of `problem` (whose model and sensitivities the caller sets) from
/// `request`. Errors name the option and the value: no budget, a throughput
/// target without a latency model, two latency models, an unknown roofline,
/// an unreadable table, a bad palette or memory model.
llvm::Error configureMsqProblem(MsqProblem &problem, const MsqRequest &request);

} // namespace qpal::alloc

#endif // QPAL_ALLOC_PROBLEMBUILDER_H
