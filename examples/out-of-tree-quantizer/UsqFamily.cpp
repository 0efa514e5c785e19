//===- UsqFamily.cpp - The numeric truth of usq ---------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `usq_{b}_{none|hess}_{s}`: the nearest of 2^b levels (i + 1/2 - 2^(b-1))
// * step, step the MSE-optimal one for N(0, 1). Everything else is
// lib/Quant's: a codebook family (CodecKind::Lut) gets the nearest-codeword
// encoder, SQ's tensor-core packing, the reference decode and LDLQ from
// qpal::QuantizerFamilyInfo.
//
//===----------------------------------------------------------------------===//

#include "Usq.h"

#include "qpal/Quant/Codebooks.h"
#include "qpal/Support/Limits.h"

#include "llvm/Support/FormatVariadic.h"

#include <memory>
#include <mutex>

using namespace qpal;

namespace {
constexpr unsigned kMinBits = 2, kMaxBits = 8;

/// The MSE-optimal step of a uniform quantizer of N(0, 1) with 2^b levels,
/// and its MSE (Max, "Quantizing for minimum distortion", 1960, table II).
constexpr double kStep[] = {0.9957, 0.5860, 0.3352, 0.1881,
                            0.1041, 0.0569, 0.0308};
constexpr double kMse[] = {0.1188,   0.03744,  0.01154,  0.003490,
                           0.001035, 0.000302, 0.0000871};

class UsqFamily final : public QuantizerFamilyInfo {
public:
  UsqFamily() : QuantizerFamilyInfo(usq::kUsqFamily, "usq") {}

  CodecKind codecKind() const override { return CodecKind::Lut; }
  llvm::StringRef namePrefix() const override { return "usq"; }

  std::optional<llvm::Expected<QuantizerSpec>>
  parse(const QuantizerName &name) const override {
    if (name.prefix() != "usq")
      return std::nullopt;
    if (auto err = name.expectFields(4, "usq_{bits}_{none|hess}_{scale}"))
      return std::move(err);
    auto bits = name.unsignedField(1, "index bits");
    if (!bits)
      return bits.takeError();
    auto hess = name.hessField(2);
    if (!hess)
      return hess.takeError();
    auto scale = name.scaleField(3);
    if (!scale)
      return scale.takeError();
    QuantizerSpec spec = QuantizerSpec::lut(family(), *bits, *scale);
    spec.hessian = *hess;
    return spec;
  }
  std::string referenceName(const QuantizerSpec &spec) const override {
    return llvm::formatv("usq_{0}_{1}_{2}", spec.indexBits, roundingField(spec),
                         formatReferenceFloat(spec.scale));
  }
  llvm::Error verify(const QuantizerSpec &spec) const override {
    return checkBounds("usq index bits", spec.indexBits, kMinBits, kMaxBits);
  }

  std::pair<uint64_t, uint64_t>
  bitsPerWeightFraction(const QuantizerSpec &spec) const override {
    return {spec.indexBits, 1};
  }
  unsigned vectorDim(const QuantizerSpec &) const override { return 1; }
  uint64_t codebookBytes(const QuantizerSpec &spec) const override {
    return (uint64_t{1} << spec.indexBits) * 2;
  }
  KernelFamily kernelFamily(const QuantizerSpec &) const override {
    return KernelFamily::SqTensorCore;
  }
  /// Up to 6 bits, the kernels look weight pairs up in a table of
  /// 2^(2b) fp16 pairs (UsqDecode.cpp's pair-table model).
  unsigned packedPairEntries(const QuantizerSpec &spec) const override {
    return spec.indexBits <= 6 ? 1u << (2 * spec.indexBits) : 0;
  }

  double expectedDistortion(const QuantizerSpec &spec) const override {
    return kMse[spec.indexBits - kMinBits];
  }
  llvm::Expected<const Codebook *>
  codebook(const QuantizerSpec &spec) const override {
    static std::mutex mutex;
    static std::unique_ptr<Codebook> books[kMaxBits + 1];
    std::lock_guard<std::mutex> lock(mutex);
    unsigned bits = spec.indexBits;
    if (!books[bits]) {
      std::vector<float> levels(size_t{1} << bits);
      for (size_t i = 0; i < levels.size(); ++i)
        levels[i] = static_cast<float>((i + 0.5 - levels.size() / 2.0) *
                                       kStep[bits - kMinBits]);
      books[bits] = std::make_unique<Codebook>(bits, 1, std::move(levels));
    }
    return books[bits].get();
  }

  std::vector<QuantizerSpec> members() const override {
    std::vector<QuantizerSpec> specs;
    for (unsigned bits = kMinBits; bits <= kMaxBits; ++bits)
      specs.push_back(QuantizerSpec::lut(family(), bits));
    return specs;
  }
};
} // namespace

const QuantizerFamilyInfo &usq::getUsqFamilyInfo() {
  static const UsqFamily info;
  return info;
}
