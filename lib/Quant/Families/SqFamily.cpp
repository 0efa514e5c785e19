//===- SqFamily.cpp - The non-uniform scalar quantizer (SQ) ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "FamilyBases.h"

using namespace qpal;
using namespace qpal::detail;

namespace {
/// `ldlq_1_{b}_{none|hess}_{s}[:simt]`: the nearest of 2^b Gaussian
/// k-means levels, b bits per weight.
class SqFamily final : public LutFamilyBase {
public:
  SqFamily()
      : LutFamilyBase(QuantizerFamily::Sq, 1, kMinSqBits, kMaxSqBits, "SQ") {}

  KernelFamily kernelFamily(const QuantizerSpec &spec) const override {
    return spec.kernel == KernelKind::Simt ? KernelFamily::SqSimt
                                           : KernelFamily::SqTensorCore;
  }
  /// Every pair of levels, 2^(2b) entries, up to 16 Ki (b = 6), in the
  /// tensor-core kernels.
  unsigned packedPairEntries(const QuantizerSpec &spec) const override {
    return spec.kernel == KernelKind::TensorCore && spec.indexBits <= 6
               ? 1u << (2 * spec.indexBits)
               : 0;
  }
  double expectedDistortion(const QuantizerSpec &spec) const override {
    return *referenceDistortion(
        QuantizerSpec::sq(spec.indexBits).referenceName());
  }
};
} // namespace

const QuantizerFamilyInfo &qpal::detail::getSqFamilyInfo() {
  static const SqFamily info;
  return info;
}
