//===- TcqFamily.cpp - The bitshift-trellis quantizer (TCQ) ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "FamilyBases.h"

using namespace qpal;
using namespace qpal::detail;

namespace {
/// `tcq_{KV}[_t{T}]_{none|hess}_{s}`: KV bits per step of 2 weights.
class TcqFamily final : public TrellisFamilyBase {
public:
  TcqFamily() : TrellisFamilyBase(QuantizerFamily::Tcq) {}

  llvm::StringRef namePrefix() const override { return "tcq"; }

  std::optional<llvm::Expected<QuantizerSpec>>
  parse(const QuantizerName &original) const override {
    if (original.prefix() != "tcq")
      return std::nullopt;
    QuantizerName name = original;
    std::optional<unsigned> tlut;
    if (auto err = takeTlutField(name, 2, tlut))
      return std::move(err);
    if (auto err = name.expectFields(4, "tcq_{KV}_none_{scale}"))
      return std::move(err);
    auto kv = name.unsignedField(1, "KV");
    if (!kv)
      return kv.takeError();
    auto hess = name.hessField(2);
    if (!hess)
      return hess.takeError();
    auto scale = name.scaleField(3);
    if (!scale)
      return scale.takeError();
    auto code = parseCode(name);
    if (!code)
      return code.takeError();
    QuantizerSpec spec = QuantizerSpec::tcq(*kv, tlut, *scale);
    spec.hessian = *hess;
    spec.code = *code;
    return spec;
  }

  std::string referenceName(const QuantizerSpec &spec) const override {
    return llvm::formatv("tcq_{0}{1}_{2}_{3}{4}", spec.kv1,
                         tlutSuffix(spec, spec.kv1), roundingField(spec),
                         formatReferenceFloat(spec.scale), codeSuffix(spec))
        .str();
  }

  llvm::Error verify(const QuantizerSpec &spec) const override {
    return verifyTrellis(spec);
  }

  std::pair<uint64_t, uint64_t>
  bitsPerWeightFraction(const QuantizerSpec &spec) const override {
    return {spec.kv1, 2};
  }

  double expectedDistortion(const QuantizerSpec &spec) const override {
    if (spec.code != TrellisCode::Lut)
      return computedDistortion(spec.code, spec.kv1);
    return *referenceDistortion(QuantizerSpec::tcq(spec.kv1).referenceName());
  }

  /// KV 2..10 (1 to 5 bits per weight), with the table and each computed
  /// code.
  std::vector<QuantizerSpec> members() const override {
    std::vector<QuantizerSpec> specs;
    for (unsigned kv = kMinTcqKV; kv <= kMaxTcqKV; ++kv)
      specs.push_back(QuantizerSpec::tcq(kv));
    return withComputedCodes(std::move(specs));
  }
};
} // namespace

const QuantizerFamilyInfo &qpal::detail::getTcqFamilyInfo() {
  static const TcqFamily info;
  return info;
}
