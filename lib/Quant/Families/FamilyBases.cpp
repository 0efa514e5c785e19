//===- FamilyBases.cpp - What the built-in families share -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "FamilyBases.h"

using namespace qpal;
using namespace qpal::detail;

//===----------------------------------------------------------------------===//
// Trellis families
//===----------------------------------------------------------------------===//

llvm::Error TrellisFamilyBase::takeTlutField(QuantizerName &name, size_t index,
                                             std::optional<unsigned> &tlut) {
  if (index >= name.fields.size() || !name.fields[index].starts_with("t") ||
      name.fields[index] == "t")
    return llvm::Error::success();
  name.fields[index] = name.fields[index].drop_front();
  auto bits = name.unsignedField(index, "codebook size");
  if (!bits)
    return bits.takeError();
  tlut = *bits;
  name.fields.erase(name.fields.begin() + index);
  return llvm::Error::success();
}

std::string TrellisFamilyBase::tlutSuffix(const QuantizerSpec &spec,
                                          unsigned kv) {
  if (spec.tlutBits == defaultTlutBits(kv))
    return "";
  return llvm::formatv("_t{0}", spec.tlutBits).str();
}

llvm::Error TrellisFamilyBase::verifyTrellis(const QuantizerSpec &spec) {
  if (auto err = checkBounds("KV", spec.kv1, kMinTcqKV, kMaxTcqKV))
    return err;
  if (auto err = checkBounds("KV", spec.kv2, kMinTcqKV, kMaxTcqKV))
    return err;
  if (spec.code != TrellisCode::Lut &&
      spec.tlutBits != defaultTlutBits(std::max(spec.kv1, spec.kv2)))
    return llvm::createStringError(llvm::formatv(
        "the computed code '{0}' reads no codebook: it takes no codebook "
        "size",
        stringifyTrellisCode(spec.code)));
  return checkBounds("codebook bits", spec.tlutBits, kMinTcqTlutBits,
                     kMaxTcqTlutBits);
}

llvm::Expected<TrellisCode>
TrellisFamilyBase::parseCode(const QuantizerName &name) {
  if (name.variant.empty())
    return TrellisCode::Lut;
  for (TrellisCode code : {TrellisCode::OneMad, TrellisCode::ThreeInst})
    if (name.variant == stringifyTrellisCode(code))
      return code;
  return name.error(llvm::formatv(
      "unknown trellis code ':{0}': expected ':1mad' or ':3inst' (or no "
      "suffix for the lookup table)",
      name.variant));
}

std::string TrellisFamilyBase::codeSuffix(const QuantizerSpec &spec) {
  if (spec.code == TrellisCode::Lut)
    return "";
  return std::string(":") + stringifyTrellisCode(spec.code);
}

double TrellisFamilyBase::computedDistortion(TrellisCode code, unsigned kv) {
  // Normalized MSE at the default scale on one 1024 x 1024 N(0, 1) matrix,
  // indexed by KV (bench/results/quant-distortion.md: qpal palette
  // --measure --rows 1024 --cols 1024 --seed 0).
  static constexpr double kOneMad[] = {
      0,         0,          0.27958,   0.138641,   0.0707977, 0.0359943,
      0.0185304, 0.00962228, 0.0050407, 0.00266352, 0.0014758};
  static constexpr double kThreeInst[] = {
      0,         0,          0.275963,  0.136831,   0.0692401, 0.035282,
      0.0180499, 0.00937496, 0.0049454, 0.00268055, 0.00150198};
  return (code == TrellisCode::OneMad ? kOneMad : kThreeInst)[kv];
}

double TrellisFamilyBase::defaultComputedScale(TrellisCode code) {
  // The scale with the lowest distortion over KV 2..10 on a 512 x 1024
  // Gaussian matrix, scanned in steps of 0.1 (bench/results/
  // quant-distortion.md): both codes spread their values wider than the
  // tlut (rms-normalized), so they take larger inputs than its 0.9.
  return code == TrellisCode::OneMad ? 1.1 : 1.2;
}

std::vector<QuantizerSpec>
TrellisFamilyBase::withComputedCodes(std::vector<QuantizerSpec> specs) {
  size_t count = specs.size();
  for (TrellisCode code : {TrellisCode::OneMad, TrellisCode::ThreeInst})
    for (size_t i = 0; i < count; ++i) {
      QuantizerSpec spec = specs[i];
      spec.code = code;
      spec.scale = defaultComputedScale(code);
      specs.push_back(spec);
    }
  return specs;
}

//===----------------------------------------------------------------------===//
// Lookup-table families
//===----------------------------------------------------------------------===//

std::optional<llvm::Expected<QuantizerSpec>>
LutFamilyBase::parse(const QuantizerName &name) const {
  if (name.prefix() != "ldlq")
    return std::nullopt;
  if (auto err = name.expectFields(5, "ldlq_{v}_{b}_{none|hess}_{scale}"))
    return std::move(err);
  auto parsedDim = name.unsignedField(1, "vector dimension");
  if (!parsedDim)
    return parsedDim.takeError();
  if (*parsedDim != dim)
    return std::nullopt;
  auto bits = name.unsignedField(2, "index bits");
  if (!bits)
    return bits.takeError();
  auto hess = name.hessField(3);
  if (!hess)
    return hess.takeError();
  auto scale = name.scaleField(4);
  if (!scale)
    return scale.takeError();
  QuantizerSpec spec = QuantizerSpec::lut(family(), *bits, *scale);
  spec.hessian = *hess;
  return spec;
}

std::string LutFamilyBase::referenceName(const QuantizerSpec &spec) const {
  std::string name =
      llvm::formatv("ldlq_{0}_{1}_{2}_{3}", dim, spec.indexBits,
                    roundingField(spec), formatReferenceFloat(spec.scale))
          .str();
  if (spec.kernel == KernelKind::Simt)
    name += ":simt";
  return name;
}

llvm::Error LutFamilyBase::verify(const QuantizerSpec &spec) const {
  return checkBounds(llvm::formatv("{0} index bits", what).str(),
                     spec.indexBits, minBits, maxBits);
}

std::vector<QuantizerSpec> LutFamilyBase::members() const {
  std::vector<QuantizerSpec> specs;
  for (KernelKind kernel : {KernelKind::TensorCore, KernelKind::Simt})
    for (unsigned bits = minBits; bits <= maxBits; ++bits)
      specs.push_back(
          QuantizerSpec::lut(family(), bits, kDefaultLutScale, kernel));
  return specs;
}
