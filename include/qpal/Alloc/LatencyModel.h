//===- LatencyModel.h - Decode-step latency of fused linear groups -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Latency cost models for MSQ. The planner's latency of one decode step
// (batch 1) is `constantSeconds() + sum over blocks and chosen groups of
// groupSeconds(group, ...)`, the reference's linear model
// (kernels-and-msq.md section 13). Implementations:
//
//  - `LatencyTable`: measured per-group entries, in the reference's JSON
//    schema (llama31_8b_latency_rtx4090.json). qpal's own kernel benchmarks
//    write the same schema (`LatencyTable::toJson`).
//  - `RooflineModel`: an analytic model for targets nobody has measured.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_ALLOC_LATENCYMODEL_H
#define QPAL_ALLOC_LATENCYMODEL_H

#include "qpal/Alloc/ModelShape.h"
#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

#include <array>
#include <memory>

namespace qpal::alloc {

/// Predicts the time of one decode step.
class LatencyModel {
public:
  virtual ~LatencyModel();

  /// Seconds per decode step outside the quantized linear layers (embedding,
  /// fp16 lm_head, attention, norms, ...).
  virtual double constantSeconds() const = 0;

  /// Seconds of one block's GEMV for `group`, whose fused weight has `shape`
  /// (rows summed over the members), stored with `quantizer` and run with
  /// the `kind` kernel (the `kernel` field of `quantizer` is ignored). An
  /// error names what the model cannot price (e.g. a missing table entry).
  virtual llvm::Expected<double> groupSeconds(FusionGroup group,
                                              LayerShape shape,
                                              const QuantizerSpec &quantizer,
                                              KernelKind kind) const = 0;

  /// A one-line description for reports.
  virtual std::string describe() const = 0;
};

/// A measured latency table:
/// `{"constant_s": c, "latency_s": {group: {quantizer: {"TC": s, "SIMT": s}}},
///   "groups": {group: {"out_features": M, "in_features": K}}}`.
/// Groups are q, k, v, o, u, g, d, qk, kv, qv, qkv, ug; quantizers are
/// reference names without a kernel suffix. When `groups` gives a shape, a
/// query for another shape is an error (the table belongs to one model).
class LatencyTable final : public LatencyModel {
public:
  /// Parses the schema above; `source` names the table in messages.
  static llvm::Expected<std::unique_ptr<LatencyTable>>
  fromJson(const llvm::json::Value &json, llvm::StringRef source);
  /// Writes the schema above (entries in a deterministic order).
  llvm::json::Value toJson() const;

  /// An empty table with `constantSeconds` and a name for reports.
  LatencyTable(std::string source, double constantSeconds);

  /// Sets the time of `group` stored with `quantizer` run by `kind`.
  void set(FusionGroup group, const QuantizerSpec &quantizer, KernelKind kind,
           double seconds);
  /// Sets the seconds per step outside the entries.
  void setConstantSeconds(double seconds) { constant = seconds; }
  /// Records the shape the entries of `group` were measured for.
  void setGroupShape(FusionGroup group, LayerShape shape);
  /// Reproduces the released solver's bug (kernels-and-msq.md section 17.1):
  /// SIMT choices are priced with the TC entries. Off by default.
  void setPriceSimtAsTensorCore(bool value) { priceSimtAsTensorCore = value; }
  /// Free text (GPU, how it was measured) written to `description`.
  void setDescription(std::string text) { description = std::move(text); }

  double constantSeconds() const override { return constant; }
  llvm::Expected<double> groupSeconds(FusionGroup group, LayerShape shape,
                                      const QuantizerSpec &quantizer,
                                      KernelKind kind) const override;
  std::string describe() const override;

private:
  /// Seconds indexed by kernel kind; NaN where not measured.
  using Entry = std::array<double, 2>;
  std::string source;
  std::string description;
  double constant;
  bool priceSimtAsTensorCore = false;
  std::array<llvm::StringMap<Entry>, kNumFusionGroups> entries;
  std::array<std::optional<LayerShape>, kNumFusionGroups> shapes;
};

/// Reads a latency table JSON file.
llvm::Expected<std::unique_ptr<LatencyTable>>
loadLatencyTable(llvm::StringRef path);

/// Parameters of `RooflineModel`. The defaults are fitted to the reference's
/// RTX 4090 table (all 1176 entries within 0.69x..1.28x, RMS log error 11%).
struct RooflineParams {
  /// Peak DRAM bandwidth, GB/s (10^9 bytes per second).
  double dramGBps = 1008;
  /// Fraction of the peak a saturating GEMV reaches.
  double bandwidthEfficiency = 0.9;
  /// Streaming multiprocessors.
  unsigned smCount = 128;
  /// Bandwidth one SM can pull, GB/s: weights with too few row blocks to
  /// occupy dramGBps * efficiency / perSmGBps SMs are bandwidth-starved.
  double perSmGBps = 25;
  /// Fixed cost per GEMV (launch inside a CUDA graph, prologue, split-K
  /// reduction, epilogue), microseconds.
  double launchMicros = 5.0;
  /// Output rows one thread block owns in the tensor-core kernels (2 x 2
  /// supertiles of 16 rows).
  unsigned tensorCoreRowsPerBlock = 32;
  /// Output rows one thread block owns in the SIMT kernels (one row per
  /// warp, four warps).
  unsigned simtRowsPerBlock = 4;
  /// Time per block outside the linear layers (attention over a short
  /// context, norms, rotations), microseconds; part of the constant.
  double otherMicrosPerBlock = 13.0;

  /// The defaults above.
  static RooflineParams rtx4090();
  /// An H100 SXM (3350 GB/s, 132 SMs); per-SM bandwidth and fixed costs
  /// are estimates, not measurements.
  static RooflineParams h100();
};

/// An analytic latency model for unmeasured targets:
///
///   t(group) = launch + bytes / min(dramGBps * efficiency,
///                                   busy SMs * perSmGBps)
///
/// where bytes = codes + codebook + per-row scales + fp16 activations + the
/// output (fp32 for TC, fp16 for SIMT) and busy SMs = min(smCount, ceil(M /
/// rows per block)): a weight with few rows (k, v under the TC kernels)
/// leaves SMs idle and cannot saturate DRAM; fusing it with others fixes
/// that and saves the fixed cost. The constant is the fp16 lm_head read at
/// dramGBps * efficiency plus `otherMicrosPerBlock` per block.
class RooflineModel final : public LatencyModel {
public:
  RooflineModel(const ModelConfig &model, RooflineParams params = {});

  double constantSeconds() const override { return constant; }
  llvm::Expected<double> groupSeconds(FusionGroup group, LayerShape shape,
                                      const QuantizerSpec &quantizer,
                                      KernelKind kind) const override;
  std::string describe() const override;
  /// The parameters in use.
  const RooflineParams &params() const { return parameters; }

private:
  RooflineParams parameters;
  double constant;
};

} // namespace qpal::alloc

#endif // QPAL_ALLOC_LATENCYMODEL_H
