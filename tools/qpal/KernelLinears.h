//===- KernelLinears.h - Block linears through generated CPU kernels -*- C++
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// An evaluator `LinearProvider` that runs each quantized block linear the
// way a compiled model does: the layer is quantized as fake quantization
// quantizes it (lib/Quant), its activations are rotated (signs, then the
// randomized Hadamard transform) and multiplied by the dequant-matmul
// kernel qpal generates for its (quantizer, M, K, batch), JIT-compiled for
// this host and run over its row groups on all cores.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TOOLS_QPAL_KERNELLINEARS_H
#define QPAL_TOOLS_QPAL_KERNELLINEARS_H

#include "qpal/Model/Evaluator.h"
#include "qpal/Model/FakeQuant.h"

#include <memory>

namespace qpal::driver {

/// What a KernelLinears has done so far.
struct KernelLinearsStats {
  int64_t layers = 0;       // block linears offered
  int64_t kernelLayers = 0; // ... that run through kernels
  int64_t kernelsCompiled = 0;
  double compileSeconds = 0;
};

class KernelLinears {
public:
  /// Quantizes by `plan` with sign vectors from `seed`, on `threads`
  /// threads (0: all).
  KernelLinears(model::QuantPlan plan, uint64_t seed, unsigned threads);
  ~KernelLinears();

  /// The provider to put in `EvaluatorOptions::linearProvider`; valid while
  /// this object lives. It declines f16 layers (the evaluator's matmul
  /// runs them).
  model::LinearProvider getProvider();

  KernelLinearsStats getStats() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl;
};

} // namespace qpal::driver

#endif // QPAL_TOOLS_QPAL_KERNELLINEARS_H
