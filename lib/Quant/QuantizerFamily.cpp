//===- QuantizerFamily.cpp - The family registry and generic codecs -------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/Half.h"
#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/SimtLayout.h"
#include "qpal/Quant/TcqSplit.h"
#include "qpal/Quant/Trellis.h"

#include "Diagnostics.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

#include <array>
#include <cmath>
#include <mutex>

using namespace qpal;
using llvm::StringRef;

using detail::makeError;

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

llvm::Error QuantizerName::error(const llvm::Twine &message) const {
  return makeError("quantizer '" + full + "': " + message);
}

llvm::Error QuantizerName::expectFields(size_t count, StringRef pattern) const {
  if (fields.size() == count)
    return llvm::Error::success();
  return error(llvm::formatv("expected the form '{0}'", pattern));
}

llvm::Expected<unsigned> QuantizerName::unsignedField(size_t index,
                                                      StringRef what) const {
  unsigned value;
  if (fields[index].getAsInteger(10, value))
    return error(llvm::formatv("expected an integer {0}, got '{1}'", what,
                               fields[index]));
  return value;
}

llvm::Expected<double> QuantizerName::scaleField(size_t index) const {
  double value;
  if (fields[index].getAsDouble(value) || !std::isfinite(value) || value <= 0)
    return error(
        llvm::formatv("expected a positive scale, got '{0}'", fields[index]));
  return value;
}

llvm::Expected<bool> QuantizerName::hessField(size_t index) const {
  if (fields[index] == "none")
    return false;
  if (fields[index] == "hess")
    return true;
  return error(
      llvm::formatv("expected 'none' or 'hess' as the Hessian field, got '{0}'",
                    fields[index]));
}

//===----------------------------------------------------------------------===//
// Defaults
//===----------------------------------------------------------------------===//

QuantizerFamilyInfo::~QuantizerFamilyInfo() = default;

unsigned
QuantizerFamilyInfo::requiredRowMultiple(const QuantizerSpec &spec) const {
  // Tensor-core layouts are made of 32 x 32 supertiles (2 x 2 mma tiles of
  // 16 x 16); the SIMT kernels give each warp one row and group 4 warps.
  return spec.kernel == KernelKind::Simt ? 4 : 32;
}

unsigned QuantizerFamilyInfo::laneSegmentBytes(const QuantizerSpec &spec,
                                               unsigned part) const {
  if (spec.kernel != KernelKind::TensorCore)
    return 0;
  // 32 weights (16 pairs: 4 tiles x 4 mma registers) at the family's rate.
  auto [numerator, denominator] = bitsPerWeightFraction(spec);
  return static_cast<unsigned>(32 * numerator / (8 * denominator));
}

llvm::Expected<const Codebook *>
QuantizerFamilyInfo::codebook(const QuantizerSpec &spec) const {
  return makeError(llvm::formatv("{0} has no codebook", spec.referenceName()));
}

llvm::Expected<const TcqStateTable *>
QuantizerFamilyInfo::trellisTable(const QuantizerSpec &spec) const {
  return makeError(
      llvm::formatv("{0} has no trellis state table", spec.referenceName()));
}

llvm::Expected<std::vector<uint8_t>>
QuantizerFamilyInfo::encode(const QuantizerSpec &spec, const float *weights,
                            int64_t rows, int64_t cols,
                            const EncodeOptions &options) const {
  switch (codecKind()) {
  case CodecKind::Dense: {
    std::vector<uint8_t> codes(static_cast<size_t>(rows * cols) * 2);
    for (int64_t i = 0; i < rows * cols; ++i) {
      if (!(std::fabs(weights[i]) < 65520.0f))
        return makeError(
            llvm::formatv("f16: the weight {0} at ({1}, {2}) overflows fp16",
                          detail::formatValue(weights[i]), i / cols, i % cols));
      uint16_t bits = floatToHalfBits(weights[i]);
      codes[2 * i] = static_cast<uint8_t>(bits);
      codes[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
    }
    return codes;
  }
  case CodecKind::Trellis: {
    auto table = trellisTable(spec);
    if (!table)
      return table.takeError();
    TcqEncodeOptions tcqOptions;
    tcqOptions.threads = options.threads;
    tcqOptions.simd = options.simd;
    if (numColumnParts(spec) == 1)
      return encodeTcqKernelLayout(weights, rows, cols, spec.kv1, **table,
                                   tcqOptions);
    return encodeTcqSplit(weights, rows, cols, spec.kv1, spec.kv2, **table,
                          tcqOptions);
  }
  case CodecKind::Lut: {
    auto book = codebook(spec);
    if (!book)
      return book.takeError();
    auto codes = encodeLutCodes(weights, rows, cols, **book, options.threads);
    if (!codes)
      return codes.takeError();
    unsigned dim = vectorDim(spec);
    if (spec.kernel == KernelKind::Simt)
      return packLutSimt(*codes, rows, cols, spec.indexBits, dim);
    return packLutTensorCore(*codes, rows, cols, spec.indexBits, dim);
  }
  }
  llvm_unreachable("unknown codec kind");
}

llvm::Expected<std::vector<float>>
QuantizerFamilyInfo::decode(const QuantizerSpec &spec,
                            llvm::ArrayRef<uint8_t> codes, int64_t rows,
                            int64_t cols, CodebookPrecision precision) const {
  switch (codecKind()) {
  case CodecKind::Dense: {
    if (codes.size() != static_cast<size_t>(rows * cols) * 2)
      return makeError(
          llvm::formatv("f16: expects {0} bytes for a {1}x{2} matrix, got {3}",
                        rows * cols * 2, rows, cols, codes.size()));
    std::vector<float> out(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = halfBitsToFloat(static_cast<uint16_t>(
          codes[2 * i] | static_cast<uint16_t>(codes[2 * i + 1]) << 8));
    return out;
  }
  case CodecKind::Trellis: {
    auto table = trellisTable(spec);
    if (!table)
      return table.takeError();
    if (numColumnParts(spec) == 1)
      return decodeTcqKernelLayout(codes, rows, cols, spec.kv1, **table,
                                   precision);
    return decodeTcqSplit(codes, rows, cols, spec.kv1, spec.kv2, **table,
                          precision);
  }
  case CodecKind::Lut: {
    auto book = codebook(spec);
    if (!book)
      return book.takeError();
    unsigned dim = vectorDim(spec);
    auto unpacked =
        spec.kernel == KernelKind::Simt
            ? unpackLutSimt(codes, rows, cols, spec.indexBits, dim)
            : unpackLutTensorCore(codes, rows, cols, spec.indexBits, dim);
    if (!unpacked)
      return unpacked.takeError();
    return decodeLutCodes(*unpacked, rows, cols, **book, precision);
  }
  }
  llvm_unreachable("unknown codec kind");
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

namespace {
/// Every family by value, and every family in registration order. `all`
/// holds at most one entry per value, so with its capacity reserved it
/// never reallocates: an ArrayRef handed out stays valid.
struct FamilyRegistry {
  std::mutex mutex;
  std::array<const QuantizerFamilyInfo *, 256> byValue{};
  std::vector<const QuantizerFamilyInfo *> all;

  FamilyRegistry() {
    all.reserve(byValue.size());
#define QPAL_FAMILY(Name, Value, Mnemonic) add(detail::get##Name##FamilyInfo());
#include "qpal/Quant/Families.def"
  }
  void add(const QuantizerFamilyInfo &info) {
    byValue[static_cast<unsigned>(info.family())] = &info;
    all.push_back(&info);
  }
};

FamilyRegistry &familyRegistry() {
  static FamilyRegistry registry;
  return registry;
}
} // namespace

llvm::Error qpal::registerQuantizerFamily(const QuantizerFamilyInfo &info) {
  FamilyRegistry &registry = familyRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  unsigned value = static_cast<unsigned>(info.family());
  if (value < kFirstPluginFamily)
    return makeError(llvm::formatv(
        "quantizer family '{0}': value {1} is reserved for qpal's own "
        "families; a plug-in takes a value from {2} to 255",
        info.mnemonic(), value, kFirstPluginFamily));
  if (registry.byValue[value] == &info)
    return llvm::Error::success();
  if (const QuantizerFamilyInfo *other = registry.byValue[value])
    return makeError(llvm::formatv(
        "quantizer family '{0}': value {1} is already family '{2}'",
        info.mnemonic(), value, other->mnemonic()));
  if (info.mnemonic().empty())
    return makeError(
        llvm::formatv("quantizer family {0} has no mnemonic", value));
  for (const QuantizerFamilyInfo *other : registry.all)
    if (other->mnemonic() == info.mnemonic())
      return makeError(llvm::formatv(
          "quantizer family '{0}': the mnemonic is already family {1}'s",
          info.mnemonic(), static_cast<unsigned>(other->family())));
  registry.add(info);
  return llvm::Error::success();
}

const QuantizerFamilyInfo &
qpal::getQuantizerFamilyInfo(QuantizerFamily family) {
  if (const QuantizerFamilyInfo *info =
          familyRegistry().byValue[static_cast<unsigned>(family)])
    return *info;
  llvm::report_fatal_error(llvm::formatv(
      "quantizer family {0} is not registered (is its plug-in loaded?)",
      static_cast<unsigned>(family)));
}

llvm::ArrayRef<const QuantizerFamilyInfo *> qpal::quantizerFamilies() {
  return familyRegistry().all;
}

std::vector<QuantizerSpec> qpal::allCodedQuantizers() {
  std::vector<QuantizerSpec> specs;
  for (const QuantizerFamilyInfo *family : quantizerFamilies()) {
    if (family->codecKind() == CodecKind::Dense)
      continue;
    std::vector<QuantizerSpec> members = family->members();
    specs.insert(specs.end(), members.begin(), members.end());
  }
  return specs;
}

//===----------------------------------------------------------------------===//
// The reference's distortion measurements
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

std::optional<double> qpal::referenceDistortion(StringRef referenceName) {
  for (const MeasuredDistortion &entry : kReferenceDistortion)
    if (referenceName == entry.name)
      return entry.normalizedMse;
  return std::nullopt;
}
