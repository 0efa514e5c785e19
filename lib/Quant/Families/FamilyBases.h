//===- FamilyBases.h - What the built-in families share ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Bases of the built-in family descriptors: the trellis families (TCQ and
// its column split) share the shipped state tables and the `t{T}` name
// field; the lookup-table families (VQ and SQ) share the `ldlq_{v}_...`
// grammar, the shipped Gaussian codebooks and both kernel layouts.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_QUANT_FAMILIES_FAMILYBASES_H
#define QPAL_LIB_QUANT_FAMILIES_FAMILYBASES_H

#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/Trellis.h"

#include "llvm/Support/FormatVariadic.h"

namespace qpal::detail {

/// TCQ-coded families: the shipped `2^T`-entry 2-D codebook behind the
/// bitshift trellis, the TCQ tensor-core kernels.
class TrellisFamilyBase : public QuantizerFamilyInfo {
public:
  using QuantizerFamilyInfo::QuantizerFamilyInfo;

  CodecKind codecKind() const override { return CodecKind::Trellis; }
  unsigned vectorDim(const QuantizerSpec &) const override { return 2; }
  /// The tlut's fp16 pairs; none for a computed code.
  uint64_t codebookBytes(const QuantizerSpec &spec) const override {
    if (spec.code != TrellisCode::Lut)
      return 0;
    return (uint64_t{1} << spec.tlutBits) * 2 * 2;
  }
  KernelFamily kernelFamily(const QuantizerSpec &) const override {
    return KernelFamily::TcqTensorCore;
  }
  unsigned packedPairEntries(const QuantizerSpec &spec) const override {
    return static_cast<unsigned>(codebookBytes(spec) / 4);
  }
  llvm::Expected<const Codebook *>
  codebook(const QuantizerSpec &spec) const override {
    if (spec.code != TrellisCode::Lut)
      return QuantizerFamilyInfo::codebook(spec);
    return shippedTcqCodebook(spec.tlutBits);
  }
  llvm::Expected<const TcqStateTable *>
  trellisTable(const QuantizerSpec &spec) const override {
    if (spec.code != TrellisCode::Lut)
      return TcqStateTable::computed(spec.code);
    return TcqStateTable::shipped(spec.tlutBits);
  }

protected:
  /// Reads the name's variant: none for the lookup table, `1mad` or
  /// `3inst` for a computed code.
  static llvm::Expected<TrellisCode> parseCode(const QuantizerName &name);
  /// `:1mad` or `:3inst` for a computed code, else empty.
  static std::string codeSuffix(const QuantizerSpec &spec);
  /// The distortion measured for a computed code (`qpal palette
  /// --measure`, bench/results/quant-distortion.md), by bits per step.
  static double computedDistortion(TrellisCode code, unsigned kv);
  /// The input scale each computed code is measured best at.
  static double defaultComputedScale(TrellisCode code);
  /// The codes' members: every rate of `specs` with each computed code, at
  /// its default scale.
  static std::vector<QuantizerSpec>
  withComputedCodes(std::vector<QuantizerSpec> specs);

  /// Removes an optional `t{T}` codebook-size field at `index` of `name`.
  static llvm::Error takeTlutField(QuantizerName &name, size_t index,
                                   std::optional<unsigned> &tlut);
  /// `_t{T}` when `spec.tlutBits` is not the default for `kv`, else empty.
  static std::string tlutSuffix(const QuantizerSpec &spec, unsigned kv);
  /// Checks both rates and the codebook size.
  static llvm::Error verifyTrellis(const QuantizerSpec &spec);
};

/// Nearest-codeword families over the reference's Gaussian k-means
/// codebooks of dimension `dim`, named `ldlq_{dim}_{b}_{none|hess}_{s}`,
/// with a tensor-core and a CUDA-core (`:simt`) layout.
class LutFamilyBase : public QuantizerFamilyInfo {
public:
  LutFamilyBase(QuantizerFamily family, unsigned dim, unsigned minBits,
                unsigned maxBits, const char *what)
      : QuantizerFamilyInfo(family), dim(dim), minBits(minBits),
        maxBits(maxBits), what(what) {}

  CodecKind codecKind() const override { return CodecKind::Lut; }
  llvm::StringRef namePrefix() const override { return "ldlq"; }
  std::optional<llvm::Expected<QuantizerSpec>>
  parse(const QuantizerName &name) const override;
  std::string referenceName(const QuantizerSpec &spec) const override;
  llvm::Error verify(const QuantizerSpec &spec) const override;
  std::pair<uint64_t, uint64_t>
  bitsPerWeightFraction(const QuantizerSpec &spec) const override {
    return {spec.indexBits, dim};
  }
  unsigned vectorDim(const QuantizerSpec &) const override { return dim; }
  uint64_t codebookBytes(const QuantizerSpec &spec) const override {
    return (uint64_t{1} << spec.indexBits) * dim * 2;
  }
  bool hasSimtLayout() const override { return true; }
  /// A SIMT thread decodes 32 vectors.
  unsigned requiredColMultiple(const QuantizerSpec &spec) const override {
    return spec.kernel == KernelKind::Simt ? 32 * dim : 32;
  }
  llvm::Expected<const Codebook *>
  codebook(const QuantizerSpec &spec) const override {
    return shippedLutCodebook(spec.indexBits, dim);
  }
  /// Every index-bit count in both layouts.
  std::vector<QuantizerSpec> members() const override;

protected:
  unsigned dim, minBits, maxBits;
  const char *what;
};

} // namespace qpal::detail

#endif // QPAL_LIB_QUANT_FAMILIES_FAMILYBASES_H
