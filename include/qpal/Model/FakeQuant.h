//===- FakeQuant.h - Quantize a model's weights in place --------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Fake quantization for evaluation: every block linear weight W is replaced
// by dequantize(quantize(W)) with its planned quantizer (random Hadamard
// rotation, per-row scales and the codec of lib/Quant), so the evaluator
// measures exactly what the compiled model computes, in float32.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_MODEL_FAKEQUANT_H
#define QPAL_MODEL_FAKEQUANT_H

#include "qpal/Model/Calibration.h"
#include "qpal/Model/Evaluator.h"
#include "qpal/Quant/Ldlq.h"
#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace qpal::model {

/// Which quantizer each block linear uses: by layer key
/// ("3_self_attn.q_proj"), else `uniform` when set.
struct QuantPlan {
  llvm::StringMap<QuantizerSpec> layers;
  std::optional<QuantizerSpec> uniform;
  /// The calibration statistics `hess` quantizers round against (their
  /// layers' input second moments); null when the plan has none.
  std::shared_ptr<const HessianSet> hessians;

  /// The quantizer of `layerKey`, or an error naming it.
  llvm::Expected<QuantizerSpec> lookup(llvm::StringRef layerKey) const;
};

/// Reads a plan: a JSON object mapping layer keys to reference quantizer
/// names, or an object whose `plan` member is one (as `qpal allocate --json`
/// writes). Errors name the file and the offending entry.
llvm::Expected<QuantPlan> loadQuantPlan(llvm::StringRef path);

/// Reads a plan from its JSON text; errors call it plan 'name'.
llvm::Expected<QuantPlan> parseQuantPlan(llvm::StringRef text,
                                         llvm::StringRef name);

/// Fails, naming the first such entry, when `plan` names a layer that a
/// model of `numLayers` blocks does not have (a block past the last, a
/// projection Llama has not): such an entry would be ignored silently.
llvm::Error checkPlanLayers(const QuantPlan &plan, int64_t numLayers);

/// Quantizes block linear `layerKey` (row-major [rows x cols]) by `plan` as
/// a compiled model does: its input sign vector is seeded by (`seed`,
/// block, rotation domain), shared by q/k/v and by gate/up.
llvm::Expected<QuantizedLayer>
quantizeBlockLinear(const QuantPlan &plan, uint64_t seed, unsigned threads,
                    llvm::StringRef layerKey, const float *weights,
                    int64_t rows, int64_t cols);

/// Quantizes block linear `layerKey` by `plan` as `quantizeBlockLinear`
/// does and measures its error against the layer input's second moment in
/// `plan.hessians` (which must be set): what `qpal layer-errors` records for
/// MSQ.
llvm::Expected<ProxyError>
measureBlockLinearError(const QuantPlan &plan, uint64_t seed, unsigned threads,
                        llvm::StringRef layerKey, const float *weights,
                        int64_t rows, int64_t cols);

/// Returns the seed of block linear `layerKey`'s input sign vector: derived
/// from `seed`, its block and its rotation domain (q/k/v, o, gate/up, down),
/// so the layers that share an input share it.
uint64_t getBlockLinearSeed(uint64_t seed, llvm::StringRef layerKey);

/// Returns the evaluator hook that fake-quantizes every weight by `plan`.
/// Layers that share an input rotation in a compiled model (q/k/v; gate/up)
/// share one sign vector, seeded by (`seed`, block, domain).
WeightTransform makeFakeQuantTransform(QuantPlan plan, uint64_t seed = 0,
                                       unsigned threads = 0);

} // namespace qpal::model

#endif // QPAL_MODEL_FAKEQUANT_H
