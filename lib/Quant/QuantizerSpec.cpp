//===- QuantizerSpec.cpp - Palette quantizer names and arithmetic ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/SimtLayout.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace qpal;
using llvm::StringRef;

unsigned qpal::defaultTlutBits(unsigned kv) {
  if (kv <= 8)
    return 9;
  return kv == 9 ? 10 : 11;
}

QuantizerSpec QuantizerSpec::f16() { return QuantizerSpec(); }

QuantizerSpec QuantizerSpec::tcq(unsigned kv, std::optional<unsigned> tlutBits,
                                 double scale) {
  QuantizerSpec spec;
  spec.family = QuantizerFamily::Tcq;
  spec.kv1 = spec.kv2 = kv;
  spec.tlutBits = tlutBits.value_or(defaultTlutBits(kv));
  spec.scale = scale;
  return spec;
}

QuantizerSpec QuantizerSpec::tcqSplit(unsigned kv1, unsigned kv2,
                                      std::optional<unsigned> tlutBits,
                                      double scale) {
  QuantizerSpec spec;
  spec.family = QuantizerFamily::TcqSplit;
  spec.kv1 = kv1;
  spec.kv2 = kv2;
  spec.tlutBits = tlutBits.value_or(defaultTlutBits(std::max(kv1, kv2)));
  spec.scale = scale;
  return spec;
}

QuantizerSpec QuantizerSpec::lut(QuantizerFamily family, unsigned bits,
                                 double scale, KernelKind kernel) {
  QuantizerSpec spec;
  spec.family = family;
  spec.indexBits = bits;
  spec.scale = scale;
  spec.kernel = kernel;
  return spec;
}

QuantizerSpec QuantizerSpec::vq(unsigned bits, double scale,
                                KernelKind kernel) {
  return lut(QuantizerFamily::Vq, bits, scale, kernel);
}

QuantizerSpec QuantizerSpec::sq(unsigned bits, double scale,
                                KernelKind kernel) {
  return lut(QuantizerFamily::Sq, bits, scale, kernel);
}

const QuantizerFamilyInfo &QuantizerSpec::familyInfo() const {
  return getQuantizerFamilyInfo(family);
}

bool QuantizerSpec::operator==(const QuantizerSpec &other) const {
  return family == other.family && kv1 == other.kv1 && kv2 == other.kv2 &&
         tlutBits == other.tlutBits && indexBits == other.indexBits &&
         scale == other.scale && kernel == other.kernel &&
         hessian == other.hessian && code == other.code;
}

std::string qpal::formatReferenceFloat(double value) {
  // Python's repr: the shortest digits that read back as `value`, written
  // positionally for exponents in [-4, 16) and in scientific notation
  // otherwise.
  char buffer[64];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*e", precision - 1, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  if (!std::isfinite(value))
    return buffer;
  int exponent = value == 0 ? 0 : std::atoi(std::strchr(buffer, 'e') + 1);
  if (exponent < -4 || exponent >= 16) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    return buffer;
  }
  int decimals = std::max(precision - 1 - exponent, 1);
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string QuantizerSpec::referenceName() const {
  return familyInfo().referenceName(*this);
}

llvm::Expected<QuantizerSpec> QuantizerSpec::parse(StringRef text) {
  if (text == "fp16")
    text = "f16";
  QuantizerName name;
  name.full = text;
  if (auto [base, suffix] = text.rsplit(':'); !suffix.empty()) {
    text = base;
    if (suffix == "simt")
      name.kernel = KernelKind::Simt;
    else if (suffix != "tc")
      name.variant = suffix;
  }
  text.split(name.fields, '_');

  std::optional<llvm::Expected<QuantizerSpec>> parsed;
  for (const QuantizerFamilyInfo *family : quantizerFamilies())
    if ((parsed = family->parse(name)))
      break;
  if (!parsed) {
    StringRef prefix = name.prefix();
    if (prefix == "ldlq")
      return name.error(llvm::formatv(
          "vector dimension {0} is not supported (1 = SQ, 2 = VQ; the "
          "reference ships no {0}-D codebooks)",
          name.fields[1]));
    if (prefix == "comb")
      return name.error("the row-split 'comb' quantizer is not part of the "
                        "palette; use 'tcomb' (column split)");
    if (prefix == "sq" || prefix == "vq2")
      return name.error(llvm::formatv(
          "per-layer k-means codebooks ('{0}') are not supported; use the "
          "fixed Gaussian codebooks ('ldlq_{1}_...')",
          prefix, prefix == "sq" ? 1 : 2));
    llvm::SmallVector<std::string> prefixes;
    for (const QuantizerFamilyInfo *family : quantizerFamilies())
      if (family->codecKind() != CodecKind::Dense &&
          !llvm::is_contained(prefixes,
                              "'" + family->namePrefix().str() + "_'"))
        prefixes.push_back("'" + family->namePrefix().str() + "_'");
    std::string last = prefixes.pop_back_val();
    return makeError(llvm::formatv(
        "unknown quantizer '{0}': expected 'f16' or a name starting with {1} "
        "or {2}",
        name.full, llvm::join(prefixes, ", "), last));
  }
  if (!*parsed)
    return parsed->takeError();
  QuantizerSpec spec = **parsed;
  spec.kernel = name.kernel;
  if (!name.variant.empty() && spec.code == TrellisCode::Lut)
    return name.error(llvm::formatv(
        "unknown suffix ':{0}': expected ':simt' or ':tc' (the kernel "
        "layout), or a computed trellis code (':1mad', ':3inst') on a "
        "tcq/tcomb name",
        name.variant));
  if (auto err = spec.verify())
    return name.error(llvm::toString(std::move(err)));
  return spec;
}

llvm::Error QuantizerSpec::verify() const {
  if (!std::isfinite(scale) || scale <= 0)
    return makeError(
        llvm::formatv("scale must be positive and finite, got {0}", scale));
  const QuantizerFamilyInfo &info = familyInfo();
  if (kernel == KernelKind::Simt && !info.hasSimtLayout()) {
    llvm::SmallVector<StringRef> simt;
    for (const QuantizerFamilyInfo *family : quantizerFamilies())
      if (family->hasSimtLayout())
        simt.push_back(family->mnemonic());
    return makeError(
        llvm::formatv("{0} has no CUDA-core (simt) layout; only {1} have one",
                      info.mnemonic(), llvm::join(simt, " and ")));
  }
  return info.verify(*this);
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

double QuantizerSpec::bitsPerWeight() const {
  auto [numerator, denominator] = familyInfo().bitsPerWeightFraction(*this);
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

unsigned QuantizerSpec::vectorDim() const {
  return familyInfo().vectorDim(*this);
}

uint64_t QuantizerSpec::codeBytes(int64_t rows, int64_t cols) const {
  uint64_t weights = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  auto [numerator, denominator] = familyInfo().bitsPerWeightFraction(*this);
  return (weights * numerator + 8 * denominator - 1) / (8 * denominator);
}

uint64_t QuantizerSpec::codebookBytes() const {
  return familyInfo().codebookBytes(*this);
}

uint64_t QuantizerSpec::scaleBytes(int64_t rows) const {
  return familyInfo().scaleBytes(*this, rows);
}

uint64_t QuantizerSpec::storageBytes(int64_t rows, int64_t cols) const {
  return codeBytes(rows, cols) + codebookBytes() + scaleBytes(rows);
}

KernelFamily QuantizerSpec::kernelFamily() const {
  return familyInfo().kernelFamily(*this);
}

bool QuantizerSpec::hasSimtLayout() const {
  return familyInfo().hasSimtLayout();
}

unsigned QuantizerSpec::requiredRowMultiple() const {
  return familyInfo().requiredRowMultiple(*this);
}

unsigned QuantizerSpec::requiredColMultiple() const {
  return familyInfo().requiredColMultiple(*this);
}

std::optional<std::string> QuantizerSpec::checkShape(int64_t rows,
                                                     int64_t cols) const {
  if (rows <= 0 || cols <= 0)
    return llvm::formatv("expects a non-empty weight, got {0}x{1}", rows, cols)
        .str();
  if (unsigned multiple = requiredRowMultiple(); rows % multiple != 0)
    return llvm::formatv("expects M divisible by {0} for {1}, got {2}",
                         multiple, referenceName(), rows)
        .str();
  if (unsigned multiple = requiredColMultiple(); cols % multiple != 0)
    return llvm::formatv("expects K divisible by {0} for {1}, got {2}",
                         multiple, referenceName(), cols)
        .str();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Kernel layout geometry
//===----------------------------------------------------------------------===//

unsigned QuantizerSpec::numColumnParts() const {
  return familyInfo().numColumnParts(*this);
}

unsigned QuantizerSpec::laneSegmentBytes(unsigned part) const {
  return familyInfo().laneSegmentBytes(*this, part);
}

uint64_t QuantizerSpec::partByteOffset(int64_t rows, int64_t cols,
                                       unsigned part) const {
  return familyInfo().partByteOffset(*this, rows, cols, part);
}

unsigned QuantizerSpec::simtChunkColumns() const {
  return kernel == KernelKind::Simt
             ? static_cast<unsigned>(kSimtChunkVectors) * vectorDim()
             : 0;
}

unsigned QuantizerSpec::packedPairEntries() const {
  return familyInfo().packedPairEntries(*this);
}

double QuantizerSpec::expectedDistortion() const {
  return familyInfo().expectedDistortion(*this);
}

std::vector<QuantizerSpec> qpal::referencePalette() {
  std::vector<QuantizerSpec> palette;
  for (unsigned kv = kMinTcqKV; kv <= kMaxTcqKV; ++kv)
    palette.push_back(QuantizerSpec::tcq(kv));
  for (unsigned kv = kMinTcqKV; kv < kMaxTcqKV; ++kv)
    palette.push_back(QuantizerSpec::tcqSplit(kv, kv + 1));
  for (unsigned bits = kMinSqBits; bits <= kMaxSqBits; ++bits)
    palette.push_back(QuantizerSpec::sq(bits));
  for (unsigned bits = 3; bits <= kMaxVqBits; ++bits)
    palette.push_back(QuantizerSpec::vq(bits));
  return palette;
}
