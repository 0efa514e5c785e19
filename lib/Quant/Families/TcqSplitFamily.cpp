//===- TcqSplitFamily.cpp - Two TCQ rates split over the columns ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "FamilyBases.h"

#include "qpal/Quant/TcqSplit.h"

using namespace qpal;
using namespace qpal::detail;

namespace {
/// `tcomb_{KV1}_{KV2}_0.5[_t{T}]_{none|hess}_{s}`: columns [0, K/2) at KV1,
/// [K/2, K) at KV2, each half packed as its own matrix (TcqSplit.h).
class TcqSplitFamily final : public TrellisFamilyBase {
public:
  TcqSplitFamily() : TrellisFamilyBase(QuantizerFamily::TcqSplit) {}

  llvm::StringRef namePrefix() const override { return "tcomb"; }

  std::optional<llvm::Expected<QuantizerSpec>>
  parse(const QuantizerName &original) const override {
    if (original.prefix() != "tcomb")
      return std::nullopt;
    QuantizerName name = original;
    std::optional<unsigned> tlut;
    if (auto err = takeTlutField(name, 4, tlut))
      return std::move(err);
    if (auto err = name.expectFields(6, "tcomb_{KV1}_{KV2}_0.5_none_{scale}"))
      return std::move(err);
    auto kv1 = name.unsignedField(1, "KV1");
    if (!kv1)
      return kv1.takeError();
    auto kv2 = name.unsignedField(2, "KV2");
    if (!kv2)
      return kv2.takeError();
    double ratio;
    if (name.fields[3].getAsDouble(ratio) || ratio != 0.5)
      return name.error(llvm::formatv(
          "the column split ratio must be 0.5 (the packing splits K in "
          "half), got '{0}'",
          name.fields[3]));
    auto hess = name.hessField(4);
    if (!hess)
      return hess.takeError();
    auto scale = name.scaleField(5);
    if (!scale)
      return scale.takeError();
    auto code = parseCode(name);
    if (!code)
      return code.takeError();
    QuantizerSpec spec = QuantizerSpec::tcqSplit(*kv1, *kv2, tlut, *scale);
    spec.hessian = *hess;
    spec.code = *code;
    return spec;
  }

  std::string referenceName(const QuantizerSpec &spec) const override {
    return llvm::formatv("tcomb_{0}_{1}_0.5{2}_{3}_{4}{5}", spec.kv1, spec.kv2,
                         tlutSuffix(spec, std::max(spec.kv1, spec.kv2)),
                         roundingField(spec), formatReferenceFloat(spec.scale),
                         codeSuffix(spec))
        .str();
  }

  llvm::Error verify(const QuantizerSpec &spec) const override {
    if (auto err = verifyTrellis(spec))
      return err;
    if (spec.kv1 == spec.kv2)
      return llvm::createStringError(
          llvm::formatv("a split needs two different rates, got KV1 = KV2 = "
                        "{0}; use tcq_{0}",
                        spec.kv1)
              .str());
    return llvm::Error::success();
  }

  std::pair<uint64_t, uint64_t>
  bitsPerWeightFraction(const QuantizerSpec &spec) const override {
    return {spec.kv1 + spec.kv2, 4};
  }

  /// Each half of the columns is packed as its own matrix of supertiles.
  unsigned requiredColMultiple(const QuantizerSpec &) const override {
    return 64;
  }
  unsigned numColumnParts(const QuantizerSpec &) const override { return 2; }
  /// 16 trellis steps at the part's rate.
  unsigned laneSegmentBytes(const QuantizerSpec &spec,
                            unsigned part) const override {
    return 2 * (part == 0 ? spec.kv1 : spec.kv2);
  }
  uint64_t partByteOffset(const QuantizerSpec &spec, int64_t rows, int64_t cols,
                          unsigned part) const override {
    return part == 0 ? 0 : tcqSplitSecondPartOffset(rows, cols, spec.kv1);
  }

  /// The reference's measurement, or the mean of the two halves' rates for
  /// a split it did not measure.
  double expectedDistortion(const QuantizerSpec &spec) const override {
    if (spec.code != TrellisCode::Lut)
      return 0.5 * (computedDistortion(spec.code, spec.kv1) +
                    computedDistortion(spec.code, spec.kv2));
    if (auto measured = referenceDistortion(
            QuantizerSpec::tcqSplit(spec.kv1, spec.kv2).referenceName()))
      return *measured;
    return 0.5 * (QuantizerSpec::tcq(spec.kv1).expectedDistortion() +
                  QuantizerSpec::tcq(spec.kv2).expectedDistortion());
  }

  /// Adjacent rates, KV and KV + 1 (1.25 to 4.75 bits per weight).
  std::vector<QuantizerSpec> members() const override {
    std::vector<QuantizerSpec> specs;
    for (unsigned kv = kMinTcqKV; kv < kMaxTcqKV; ++kv)
      specs.push_back(QuantizerSpec::tcqSplit(kv, kv + 1));
    return withComputedCodes(std::move(specs));
  }
};
} // namespace

const QuantizerFamilyInfo &qpal::detail::getTcqSplitFamilyInfo() {
  static const TcqSplitFamily info;
  return info;
}
