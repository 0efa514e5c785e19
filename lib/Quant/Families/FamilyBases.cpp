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
  if (auto err = checkRange("KV", spec.kv1, kMinTcqKV, kMaxTcqKV))
    return err;
  if (auto err = checkRange("KV", spec.kv2, kMinTcqKV, kMaxTcqKV))
    return err;
  return checkRange("codebook bits", spec.tlutBits, kMinTcqTlutBits,
                    kMaxTcqTlutBits);
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
  return checkRange(llvm::formatv("{0} index bits", what).str(), spec.indexBits,
                    minBits, maxBits);
}

std::vector<QuantizerSpec> LutFamilyBase::members() const {
  std::vector<QuantizerSpec> specs;
  for (KernelKind kernel : {KernelKind::TensorCore, KernelKind::Simt})
    for (unsigned bits = minBits; bits <= maxBits; ++bits)
      specs.push_back(
          QuantizerSpec::lut(family(), bits, kDefaultLutScale, kernel));
  return specs;
}
