//===- VqFamily.cpp - The 2-D vector quantizer (VQ) -----------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "FamilyBases.h"

#include <cmath>

using namespace qpal;
using namespace qpal::detail;

namespace {
/// `ldlq_2_{b}_{none|hess}_{s}[:simt]`: the nearest of 2^b Gaussian 2-D
/// codewords, b / 2 bits per weight.
class VqFamily final : public LutFamilyBase {
public:
  VqFamily()
      : LutFamilyBase(QuantizerFamily::Vq, 2, kMinVqBits, kMaxVqBits, "VQ") {}

  KernelFamily kernelFamily(const QuantizerSpec &spec) const override {
    return spec.kernel == KernelKind::Simt ? KernelFamily::VqSimt
                                           : KernelFamily::VqTensorCore;
  }
  /// Every codeword, in the tensor-core kernels.
  unsigned packedPairEntries(const QuantizerSpec &spec) const override {
    return spec.kernel == KernelKind::TensorCore ? 1u << spec.indexBits : 0;
  }
  /// The reference's measurement; at 2 index bits (1 bpw, outside its
  /// table) the Gaussian distortion-rate bound scaled by VQ's gap at
  /// 1.5 bpw.
  double expectedDistortion(const QuantizerSpec &spec) const override {
    if (auto measured = referenceDistortion(
            QuantizerSpec::vq(spec.indexBits).referenceName()))
      return *measured;
    double gap = *referenceDistortion(QuantizerSpec::vq(3).referenceName()) /
                 std::exp2(-3.0);
    return gap * std::exp2(-2.0 * spec.indexBits / 2.0);
  }
};
} // namespace

const QuantizerFamilyInfo &qpal::detail::getVqFamilyInfo() {
  static const VqFamily info;
  return info;
}
