//===- QuantizerSpec.cpp - Palette quantizer names and arithmetic ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/QuantizerSpec.h"
#include "qpal/Quant/SimtLayout.h"
#include "qpal/Quant/TcqSplit.h"

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

QuantizerSpec QuantizerSpec::vq(unsigned bits, double scale,
                                KernelKind kernel) {
  QuantizerSpec spec;
  spec.family = QuantizerFamily::Vq;
  spec.indexBits = bits;
  spec.scale = scale;
  spec.kernel = kernel;
  return spec;
}

QuantizerSpec QuantizerSpec::sq(unsigned bits, double scale,
                                KernelKind kernel) {
  QuantizerSpec spec = vq(bits, scale, kernel);
  spec.family = QuantizerFamily::Sq;
  return spec;
}

bool QuantizerSpec::operator==(const QuantizerSpec &other) const {
  return family == other.family && kv1 == other.kv1 && kv2 == other.kv2 &&
         tlutBits == other.tlutBits && indexBits == other.indexBits &&
         scale == other.scale && kernel == other.kernel &&
         hessian == other.hessian;
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

std::string QuantizerSpec::referenceName() const {
  std::string scaleText = formatReferenceFloat(scale);
  switch (family) {
  case QuantizerFamily::F16:
    return "f16";
  case QuantizerFamily::Tcq: {
    std::string tlut;
    if (tlutBits != defaultTlutBits(kv1))
      tlut = llvm::formatv("_t{0}", tlutBits).str();
    return llvm::formatv("tcq_{0}{1}_{2}_{3}", kv1, tlut,
                         hessian ? "hess" : "none", scaleText)
        .str();
  }
  case QuantizerFamily::TcqSplit: {
    std::string tlut;
    if (tlutBits != defaultTlutBits(std::max(kv1, kv2)))
      tlut = llvm::formatv("_t{0}", tlutBits).str();
    return llvm::formatv("tcomb_{0}_{1}_0.5{2}_{3}_{4}", kv1, kv2, tlut,
                         hessian ? "hess" : "none", scaleText)
        .str();
  }
  case QuantizerFamily::Vq:
  case QuantizerFamily::Sq: {
    std::string name =
        llvm::formatv("ldlq_{0}_{1}_{2}_{3}",
                      family == QuantizerFamily::Vq ? 2 : 1, indexBits,
                      hessian ? "hess" : "none", scaleText)
            .str();
    if (kernel == KernelKind::Simt)
      name += ":simt";
    return name;
  }
  }
  llvm_unreachable("unknown quantizer family");
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Parses an unsigned decimal field of a quantizer name.
static llvm::Expected<unsigned>
parseUnsignedField(StringRef name, StringRef field, StringRef what) {
  unsigned value;
  if (field.getAsInteger(10, value))
    return makeError(
        llvm::formatv("quantizer '{0}': expected an integer {1}, got '{2}'",
                      name, what, field));
  return value;
}

/// Parses the scale field (a finite positive float).
static llvm::Expected<double> parseScaleField(StringRef name, StringRef field) {
  double value;
  if (field.getAsDouble(value) || !std::isfinite(value) || value <= 0)
    return makeError(llvm::formatv(
        "quantizer '{0}': expected a positive scale, got '{1}'", name, field));
  return value;
}

/// Reads the `{hess}` field: `none` (data-free rounding) or `hess` (LDLQ
/// against a calibration Hessian).
static llvm::Expected<bool> parseHessField(StringRef name, StringRef field) {
  if (field == "none")
    return false;
  if (field == "hess")
    return true;
  return makeError(llvm::formatv(
      "quantizer '{0}': expected 'none' or 'hess' as the Hessian field, got "
      "'{1}'",
      name, field));
}

llvm::Expected<QuantizerSpec> QuantizerSpec::parse(StringRef name) {
  StringRef full = name;
  if (name == "f16" || name == "fp16")
    return f16();

  KernelKind kernel = KernelKind::TensorCore;
  if (name.consume_back(":simt"))
    kernel = KernelKind::Simt;
  else if (name.consume_back(":tc"))
    kernel = KernelKind::TensorCore;

  llvm::SmallVector<StringRef> fields;
  name.split(fields, '_');
  StringRef prefix = fields.front();
  auto expectFields = [&](size_t count, StringRef pattern) -> llvm::Error {
    if (fields.size() == count)
      return llvm::Error::success();
    return makeError(llvm::formatv("quantizer '{0}': expected the form '{1}'",
                                   full, pattern));
  };

  // Strips an optional `t{T}` codebook-size field at `index`.
  std::optional<unsigned> tlut;
  auto takeTlut = [&](size_t index) -> llvm::Error {
    if (index >= fields.size() || !fields[index].starts_with("t") ||
        fields[index] == "t")
      return llvm::Error::success();
    auto bits =
        parseUnsignedField(full, fields[index].drop_front(), "codebook size");
    if (!bits)
      return bits.takeError();
    tlut = *bits;
    fields.erase(fields.begin() + index);
    return llvm::Error::success();
  };

  QuantizerSpec spec;
  if (prefix == "tcq") {
    if (auto err = takeTlut(2))
      return std::move(err);
    if (auto err = expectFields(4, "tcq_{KV}_none_{scale}"))
      return std::move(err);
    auto kv = parseUnsignedField(full, fields[1], "KV");
    if (!kv)
      return kv.takeError();
    auto hess = parseHessField(full, fields[2]);
    if (!hess)
      return hess.takeError();
    auto scale = parseScaleField(full, fields[3]);
    if (!scale)
      return scale.takeError();
    spec = tcq(*kv, tlut, *scale);
    spec.hessian = *hess;
  } else if (prefix == "tcomb") {
    if (auto err = takeTlut(4))
      return std::move(err);
    if (auto err = expectFields(6, "tcomb_{KV1}_{KV2}_0.5_none_{scale}"))
      return std::move(err);
    auto kv1 = parseUnsignedField(full, fields[1], "KV1");
    if (!kv1)
      return kv1.takeError();
    auto kv2 = parseUnsignedField(full, fields[2], "KV2");
    if (!kv2)
      return kv2.takeError();
    double ratio;
    if (fields[3].getAsDouble(ratio) || ratio != 0.5)
      return makeError(llvm::formatv(
          "quantizer '{0}': the column split ratio must be 0.5 (the packing "
          "splits K in half), got '{1}'",
          full, fields[3]));
    auto hess = parseHessField(full, fields[4]);
    if (!hess)
      return hess.takeError();
    auto scale = parseScaleField(full, fields[5]);
    if (!scale)
      return scale.takeError();
    spec = tcqSplit(*kv1, *kv2, tlut, *scale);
    spec.hessian = *hess;
  } else if (prefix == "ldlq") {
    if (auto err = expectFields(5, "ldlq_{v}_{b}_{none|hess}_{scale}"))
      return std::move(err);
    auto dim = parseUnsignedField(full, fields[1], "vector dimension");
    if (!dim)
      return dim.takeError();
    auto bits = parseUnsignedField(full, fields[2], "index bits");
    if (!bits)
      return bits.takeError();
    auto hess = parseHessField(full, fields[3]);
    if (!hess)
      return hess.takeError();
    auto scale = parseScaleField(full, fields[4]);
    if (!scale)
      return scale.takeError();
    if (*dim == 1)
      spec = sq(*bits, *scale, kernel);
    else if (*dim == 2)
      spec = vq(*bits, *scale, kernel);
    else
      return makeError(llvm::formatv(
          "quantizer '{0}': vector dimension {1} is not supported (1 = SQ, "
          "2 = VQ; the reference ships no {1}-D codebooks)",
          full, *dim));
    spec.hessian = *hess;
  } else if (prefix == "comb") {
    return makeError(llvm::formatv(
        "quantizer '{0}': the row-split 'comb' quantizer is not part of the "
        "palette; use 'tcomb' (column split)",
        full));
  } else if (prefix == "sq" || prefix == "vq2") {
    return makeError(llvm::formatv(
        "quantizer '{0}': per-layer k-means codebooks ('{1}') are not "
        "supported; use the fixed Gaussian codebooks ('ldlq_{2}_...')",
        full, prefix, prefix == "sq" ? 1 : 2));
  } else {
    return makeError(llvm::formatv(
        "unknown quantizer '{0}': expected 'f16' or a name starting with "
        "'tcq_', 'tcomb_' or 'ldlq_'",
        full));
  }
  if (kernel == KernelKind::Simt && spec.family != QuantizerFamily::Vq &&
      spec.family != QuantizerFamily::Sq)
    return makeError(llvm::formatv(
        "quantizer '{0}': only SQ and VQ have CUDA-core (simt) kernels", full));
  if (auto err = spec.verify())
    return makeError(llvm::formatv("quantizer '{0}': {1}", full,
                                   llvm::toString(std::move(err))));
  return spec;
}

llvm::Error QuantizerSpec::verify() const {
  auto checkRange = [](StringRef what, unsigned value, unsigned lo,
                       unsigned hi) -> llvm::Error {
    if (value >= lo && value <= hi)
      return llvm::Error::success();
    return makeError(llvm::formatv("{0} must be in [{1}, {2}], got {3}", what,
                                   lo, hi, value));
  };
  if (!std::isfinite(scale) || scale <= 0)
    return makeError(
        llvm::formatv("scale must be positive and finite, got {0}", scale));
  if (hessian && family == QuantizerFamily::F16)
    return makeError("f16 is not rounded: it has no Hessian-aware variant");
  switch (family) {
  case QuantizerFamily::F16:
    return llvm::Error::success();
  case QuantizerFamily::Tcq:
  case QuantizerFamily::TcqSplit:
    if (auto err = checkRange("KV", kv1, kMinTcqKV, kMaxTcqKV))
      return err;
    if (auto err = checkRange("KV", kv2, kMinTcqKV, kMaxTcqKV))
      return err;
    if (family == QuantizerFamily::TcqSplit && kv1 == kv2)
      return makeError(llvm::formatv(
          "a split needs two different rates, got KV1 = KV2 = {0}; use "
          "tcq_{0}",
          kv1));
    return checkRange("codebook bits", tlutBits, kMinTcqTlutBits,
                      kMaxTcqTlutBits);
  case QuantizerFamily::Vq:
    return checkRange("VQ index bits", indexBits, kMinVqBits, kMaxVqBits);
  case QuantizerFamily::Sq:
    return checkRange("SQ index bits", indexBits, kMinSqBits, kMaxSqBits);
  }
  llvm_unreachable("unknown quantizer family");
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

double QuantizerSpec::bitsPerWeight() const {
  switch (family) {
  case QuantizerFamily::F16:
    return 16.0;
  case QuantizerFamily::Tcq:
    return kv1 / 2.0;
  case QuantizerFamily::TcqSplit:
    return (kv1 + kv2) / 4.0;
  case QuantizerFamily::Vq:
    return indexBits / 2.0;
  case QuantizerFamily::Sq:
    return indexBits;
  }
  llvm_unreachable("unknown quantizer family");
}

unsigned QuantizerSpec::vectorDim() const {
  switch (family) {
  case QuantizerFamily::F16:
  case QuantizerFamily::Sq:
    return 1;
  case QuantizerFamily::Tcq:
  case QuantizerFamily::TcqSplit:
  case QuantizerFamily::Vq:
    return 2;
  }
  llvm_unreachable("unknown quantizer family");
}

uint64_t QuantizerSpec::codeBytes(int64_t rows, int64_t cols) const {
  uint64_t weights = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  switch (family) {
  case QuantizerFamily::F16:
    return weights * 2;
  case QuantizerFamily::Tcq:
    return (weights * kv1 + 15) / 16;
  case QuantizerFamily::TcqSplit:
    return (weights * (kv1 + kv2) + 31) / 32;
  case QuantizerFamily::Vq:
    return (weights * indexBits + 15) / 16;
  case QuantizerFamily::Sq:
    return (weights * indexBits + 7) / 8;
  }
  llvm_unreachable("unknown quantizer family");
}

uint64_t QuantizerSpec::codebookBytes() const {
  switch (family) {
  case QuantizerFamily::F16:
    return 0;
  case QuantizerFamily::Tcq:
  case QuantizerFamily::TcqSplit:
    return (uint64_t{1} << tlutBits) * 2 * 2;
  case QuantizerFamily::Vq:
    return (uint64_t{1} << indexBits) * 2 * 2;
  case QuantizerFamily::Sq:
    return (uint64_t{1} << indexBits) * 2;
  }
  llvm_unreachable("unknown quantizer family");
}

uint64_t QuantizerSpec::scaleBytes(int64_t rows) const {
  return family == QuantizerFamily::F16 ? 0 : static_cast<uint64_t>(rows) * 2;
}

uint64_t QuantizerSpec::storageBytes(int64_t rows, int64_t cols) const {
  return codeBytes(rows, cols) + codebookBytes() + scaleBytes(rows);
}

KernelFamily QuantizerSpec::kernelFamily() const {
  switch (family) {
  case QuantizerFamily::F16:
    return KernelFamily::Dense;
  case QuantizerFamily::Tcq:
  case QuantizerFamily::TcqSplit:
    return KernelFamily::TcqTensorCore;
  case QuantizerFamily::Vq:
    return kernel == KernelKind::Simt ? KernelFamily::VqSimt
                                      : KernelFamily::VqTensorCore;
  case QuantizerFamily::Sq:
    return kernel == KernelKind::Simt ? KernelFamily::SqSimt
                                      : KernelFamily::SqTensorCore;
  }
  llvm_unreachable("unknown quantizer family");
}

unsigned QuantizerSpec::requiredRowMultiple() const {
  if (family == QuantizerFamily::F16)
    return 1;
  // Tensor-core layouts are made of 32 x 32 supertiles (2 x 2 mma tiles of
  // 16 x 16); the SIMT kernels give each warp one row and group 4 warps.
  return kernel == KernelKind::Simt ? 4 : 32;
}

unsigned QuantizerSpec::requiredColMultiple() const {
  switch (family) {
  case QuantizerFamily::F16:
    return 1;
  case QuantizerFamily::TcqSplit:
    // Each half of the columns is packed as its own matrix of supertiles.
    return 64;
  case QuantizerFamily::Tcq:
    return 32;
  case QuantizerFamily::Vq:
    // A SIMT thread decodes 32 two-dimensional vectors (64 columns).
    return kernel == KernelKind::Simt ? 64 : 32;
  case QuantizerFamily::Sq:
    return 32;
  }
  llvm_unreachable("unknown quantizer family");
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
  return family == QuantizerFamily::TcqSplit ? 2 : 1;
}

unsigned QuantizerSpec::laneSegmentBytes(unsigned part) const {
  // A lane's segment holds its 16 pairs (4 tiles x 4 mma registers).
  switch (family) {
  case QuantizerFamily::F16:
    return 0;
  case QuantizerFamily::Tcq:
    // 16 trellis steps of KV bits.
    return 2 * kv1;
  case QuantizerFamily::TcqSplit:
    return 2 * (part == 0 ? kv1 : kv2);
  case QuantizerFamily::Vq:
    // 16 two-dimensional codes of b bits.
    return kernel == KernelKind::TensorCore ? 2 * indexBits : 0;
  case QuantizerFamily::Sq:
    // 32 scalar codes of b bits.
    return kernel == KernelKind::TensorCore ? 4 * indexBits : 0;
  }
  llvm_unreachable("unknown quantizer family");
}

uint64_t QuantizerSpec::partByteOffset(int64_t rows, int64_t cols,
                                       unsigned part) const {
  if (family != QuantizerFamily::TcqSplit || part == 0)
    return 0;
  return tcqSplitSecondPartOffset(rows, cols, kv1);
}

unsigned QuantizerSpec::simtChunkColumns() const {
  bool simt =
      (family == QuantizerFamily::Vq || family == QuantizerFamily::Sq) &&
      kernel == KernelKind::Simt;
  return simt ? static_cast<unsigned>(kSimtChunkVectors) * vectorDim() : 0;
}

unsigned QuantizerSpec::packedPairEntries() const {
  switch (family) {
  case QuantizerFamily::F16:
    return 0;
  case QuantizerFamily::Tcq:
  case QuantizerFamily::TcqSplit:
    return static_cast<unsigned>(codebookBytes() / 4);
  case QuantizerFamily::Vq:
    return kernel == KernelKind::TensorCore
               ? static_cast<unsigned>(codebookBytes() / 4)
               : 0;
  case QuantizerFamily::Sq:
    // 2^(2b) entries: up to 16 KiB (b = 6).
    return kernel == KernelKind::TensorCore && indexBits <= 6
               ? 1u << (2 * indexBits)
               : 0;
  }
  llvm_unreachable("unknown quantizer family");
}

//===----------------------------------------------------------------------===//
// Expected distortion
//===----------------------------------------------------------------------===//

namespace {
struct MeasuredDistortion {
  const char *name;
  double normalizedMse;
};
} // namespace

// From ../shared/reference/data/quantizer_distortion.json (normalized_mse):
// one 4096 x 4096 N(0, 1) matrix per quantizer, measured by the reference.
static constexpr MeasuredDistortion kReferenceDistortion[] = {
    {"tcq_2_none_0.9", 0.282708872463307},
    {"tcq_3_none_0.9", 0.14033918982453206},
    {"tcq_4_none_0.9", 0.07101349196414854},
    {"tcq_5_none_0.9", 0.03631352651642567},
    {"tcq_6_none_0.9", 0.01891286780458093},
    {"tcq_7_none_0.9", 0.010177031801059815},
    {"tcq_8_none_0.9", 0.005901206723939589},
    {"tcq_9_none_0.9", 0.0030269634550807393},
    {"tcq_10_none_0.9", 0.0016159877596564308},
    {"tcomb_2_3_0.5_none_0.9", 0.2115378984047021},
    {"tcomb_3_4_0.5_none_0.9", 0.10568944251787331},
    {"tcomb_4_5_0.5_none_0.9", 0.05366330671790554},
    {"tcomb_5_6_0.5_none_0.9", 0.027616995299626995},
    {"tcomb_6_7_0.5_none_0.9", 0.014546534464167522},
    {"tcomb_7_8_0.5_none_0.9", 0.008039694402444985},
    {"tcomb_8_9_0.5_none_0.9", 0.004142725771668702},
    {"tcomb_9_10_0.5_none_0.9", 0.002193506996906431},
    {"ldlq_1_2_none_1.0", 0.11747973260124042},
    {"ldlq_1_3_none_1.0", 0.03451115706273104},
    {"ldlq_1_4_none_1.0", 0.009503394436650499},
    {"ldlq_1_5_none_1.0", 0.0025094040548698537},
    {"ldlq_1_6_none_1.0", 0.0006493208003295198},
    {"ldlq_1_7_none_1.0", 0.00016440928764338385},
    {"ldlq_1_8_none_1.0", 4.147590776224529e-05},
    {"ldlq_2_3_none_1.0", 0.2012369704425422},
    {"ldlq_2_4_none_1.0", 0.10859098990435645},
    {"ldlq_2_5_none_1.0", 0.05707500479529564},
    {"ldlq_2_6_none_1.0", 0.02971748153358084},
    {"ldlq_2_7_none_1.0", 0.015232692666744086},
    {"ldlq_2_8_none_1.0", 0.0077552626470497},
    {"ldlq_2_9_none_1.0", 0.003920269668008943},
    {"ldlq_2_10_none_1.0", 0.0019751699916915224},
    {"ldlq_2_11_none_1.0", 0.0009924986855714979},
    {"ldlq_2_12_none_1.0", 0.0004994782816381024},
};

static std::optional<double> lookupMeasured(const std::string &name) {
  for (const MeasuredDistortion &entry : kReferenceDistortion)
    if (name == entry.name)
      return entry.normalizedMse;
  return std::nullopt;
}

double QuantizerSpec::expectedDistortion() const {
  switch (family) {
  case QuantizerFamily::F16:
    // Round-to-nearest fp16: a uniform relative error of half an ulp
    // (2^-11), whose mean square is (2^-11)^2 / 3.
    return std::ldexp(1.0, -22) / 3.0;
  case QuantizerFamily::Tcq:
    return *lookupMeasured(tcq(kv1).referenceName());
  case QuantizerFamily::TcqSplit: {
    if (auto measured = lookupMeasured(tcqSplit(kv1, kv2).referenceName()))
      return *measured;
    return 0.5 *
           (tcq(kv1).expectedDistortion() + tcq(kv2).expectedDistortion());
  }
  case QuantizerFamily::Vq:
  case QuantizerFamily::Sq: {
    QuantizerSpec canonical =
        family == QuantizerFamily::Vq ? vq(indexBits) : sq(indexBits);
    if (auto measured = lookupMeasured(canonical.referenceName()))
      return *measured;
    // VQ at 2 index bits (1 bpw) is outside the reference's table: the
    // Gaussian distortion-rate bound scaled by VQ's gap at 1.5 bpw.
    double gap = *lookupMeasured(vq(3).referenceName()) / std::exp2(-3.0);
    return gap * std::exp2(-2.0 * bitsPerWeight());
  }
  }
  llvm_unreachable("unknown quantizer family");
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
