//===- F16Family.cpp - Unquantized fp16 weights ---------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/QuantizerFamily.h"

#include <cmath>

using namespace qpal;

namespace {
/// `f16`: each weight stored as its fp16 rounding, no scales, no codebook.
class F16Family final : public QuantizerFamilyInfo {
public:
  F16Family() : QuantizerFamilyInfo(QuantizerFamily::F16) {}

  CodecKind codecKind() const override { return CodecKind::Dense; }
  llvm::StringRef namePrefix() const override { return "f16"; }
  std::optional<llvm::Expected<QuantizerSpec>>
  parse(const QuantizerName &name) const override {
    if (name.fields.size() != 1 || name.prefix() != "f16")
      return std::nullopt;
    return QuantizerSpec::f16();
  }
  std::string referenceName(const QuantizerSpec &) const override {
    return "f16";
  }
  llvm::Error verify(const QuantizerSpec &spec) const override {
    if (spec.hessian)
      return llvm::createStringError(
          "f16 is not rounded: it has no Hessian-aware variant");
    return llvm::Error::success();
  }
  std::pair<uint64_t, uint64_t>
  bitsPerWeightFraction(const QuantizerSpec &) const override {
    return {16, 1};
  }
  unsigned vectorDim(const QuantizerSpec &) const override { return 1; }
  uint64_t codebookBytes(const QuantizerSpec &) const override { return 0; }
  uint64_t scaleBytes(const QuantizerSpec &, int64_t) const override {
    return 0;
  }
  KernelFamily kernelFamily(const QuantizerSpec &) const override {
    return KernelFamily::Dense;
  }
  unsigned requiredRowMultiple(const QuantizerSpec &) const override {
    return 1;
  }
  unsigned requiredColMultiple(const QuantizerSpec &) const override {
    return 1;
  }
  unsigned laneSegmentBytes(const QuantizerSpec &, unsigned) const override {
    return 0;
  }
  /// Round-to-nearest fp16: a uniform relative error of half an ulp
  /// (2^-11), whose mean square is (2^-11)^2 / 3.
  double expectedDistortion(const QuantizerSpec &) const override {
    return std::ldexp(1.0, -22) / 3.0;
  }
  std::vector<QuantizerSpec> members() const override {
    return {QuantizerSpec::f16()};
  }
};
} // namespace

const QuantizerFamilyInfo &qpal::detail::getF16FamilyInfo() {
  static const F16Family info;
  return info;
}
