//===- Inputs.cpp - Sensitivities, distortions and palettes ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/Inputs.h"
#include "qpal/Support/Json.h"
#include "qpal/Support/Limits.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <map>

using namespace qpal;
using namespace qpal::alloc;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<llvm::json::Value> alloc::readJsonFile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(llvm::formatv("cannot read '{0}': {1}", path,
                                   buffer.getError().message()));
  auto json = qpal::parseJsonBounded((*buffer)->getBuffer(),
                                     llvm::formatv("'{0}'", path).str());
  if (!json)
    return json.takeError();
  return std::move(*json);
}

//===----------------------------------------------------------------------===//
// Sensitivities
//===----------------------------------------------------------------------===//

double Sensitivities::groupSum(unsigned block, FusionGroup group) const {
  double sum = 0;
  for (Projection member : fusionGroupMembers(group))
    sum += at(block, member);
  return sum;
}

Sensitivities Sensitivities::uniform(unsigned numBlocks, double value) {
  Sensitivities result;
  std::array<double, kNumProjections> row;
  row.fill(value);
  result.coefficients.assign(numBlocks, row);
  return result;
}

llvm::Error Sensitivities::verify() const {
  if (coefficients.empty())
    return makeError("sensitivities: no layers");
  for (unsigned block = 0; block < numBlocks(); ++block)
    for (Projection projection : kAllProjections) {
      double value = at(block, projection);
      if (!isValidSensitivity(value))
        return makeError(llvm::formatv(
            "sensitivity of layer '{0}' must be in [0, 1e30], got {1}",
            layerKey(block, projection), value));
    }
  return llvm::Error::success();
}

llvm::Expected<Sensitivities>
alloc::parseSensitivities(const llvm::json::Value &json) {
  const llvm::json::Object *root = json.getAsObject();
  if (!root)
    return makeError("sensitivities: expected a JSON object");
  const llvm::json::Object *coefficients = root->getObject("coefficients");
  if (!coefficients)
    return makeError("sensitivities: expected an object 'coefficients' mapping "
                     "'{block}_{module}.{proj}' keys to numbers");
  // Blocks arrive in arbitrary key order; collect, then check completeness.
  std::map<unsigned, std::array<std::optional<double>, kNumProjections>> seen;
  for (const auto &entry : *coefficients) {
    auto key = parseLayerKey(entry.first);
    if (!key)
      return makeError(
          llvm::formatv("sensitivities: {0}", llvm::toString(key.takeError())));
    std::optional<double> value = entry.second.getAsNumber();
    if (!value)
      return makeError(llvm::formatv(
          "sensitivities: layer '{0}' must map to a number", entry.first));
    seen[key->first][static_cast<unsigned>(key->second)] = *value;
  }
  if (seen.empty())
    return makeError("sensitivities: 'coefficients' is empty");
  Sensitivities result;
  unsigned numBlocks = seen.rbegin()->first + 1;
  // Blocks 0..n-1 each appear: the first block missing is named before
  // anything is sized by the largest block number (a hostile key such as
  // '999999999_mlp.up_proj' would otherwise allocate gigabytes).
  if (seen.size() != numBlocks) {
    unsigned missing = 0;
    for (const auto &entry : seen) {
      if (entry.first != missing)
        break;
      ++missing;
    }
    return makeError(llvm::formatv(
        "sensitivities: missing layer '{0}' (blocks 0..{1} must each have "
        "q, k, v, o, gate, up and down)",
        layerKey(missing, Projection::Q), numBlocks - 1));
  }
  result.coefficients.resize(numBlocks);
  for (unsigned block = 0; block < numBlocks; ++block)
    for (Projection projection : kAllProjections) {
      auto it = seen.find(block);
      const std::optional<double> *value =
          it == seen.end() ? nullptr
                           : &it->second[static_cast<unsigned>(projection)];
      if (!value || !value->has_value())
        return makeError(llvm::formatv(
            "sensitivities: missing layer '{0}' (blocks 0..{1} must each have "
            "q, k, v, o, gate, up and down)",
            layerKey(block, projection), numBlocks - 1));
      result.coefficients[block][static_cast<unsigned>(projection)] = **value;
    }
  if (std::optional<double> constant = root->getNumber("constant"))
    result.constant = *constant;
  if (auto err = result.verify())
    return std::move(err);
  return result;
}

llvm::Expected<Sensitivities> alloc::loadSensitivities(StringRef path) {
  auto json = readJsonFile(path);
  if (!json)
    return json.takeError();
  auto result = parseSensitivities(*json);
  if (!result)
    return makeError(
        llvm::formatv("'{0}': {1}", path, llvm::toString(result.takeError())));
  return result;
}

//===----------------------------------------------------------------------===//
// Distortion
//===----------------------------------------------------------------------===//

/// The table key of a quantizer: its reference name with the TC kernel.
static std::string distortionKey(const QuantizerSpec &quantizer) {
  QuantizerSpec canonical = quantizer;
  canonical.kernel = KernelKind::TensorCore;
  return canonical.referenceName();
}

DistortionTable DistortionTable::expected() {
  DistortionTable table;
  table.useExpected = true;
  table.sourceName = "QuantizerSpec::expectedDistortion (reference "
                     "quantizer_distortion.json)";
  return table;
}

llvm::Expected<DistortionTable>
DistortionTable::fromJson(const llvm::json::Value &json, StringRef source) {
  const llvm::json::Object *root = json.getAsObject();
  const llvm::json::Object *mse =
      root ? root->getObject("normalized_mse") : nullptr;
  if (!mse)
    return makeError(llvm::formatv(
        "distortion table '{0}': expected an object 'normalized_mse' mapping "
        "quantizer names to numbers",
        source));
  DistortionTable table;
  table.sourceName = source.str();
  for (const auto &entry : *mse) {
    auto quantizer = QuantizerSpec::parse(entry.first);
    if (!quantizer)
      return makeError(llvm::formatv("distortion table '{0}': {1}", source,
                                     llvm::toString(quantizer.takeError())));
    std::optional<double> value = entry.second.getAsNumber();
    if (!value || !std::isfinite(*value) || *value < 0)
      return makeError(llvm::formatv(
          "distortion table '{0}': '{1}' must map to a finite non-negative "
          "number",
          source, entry.first.str()));
    table.set(*quantizer, *value);
  }
  return table;
}

void DistortionTable::set(const QuantizerSpec &quantizer,
                          double normalizedMse) {
  values[distortionKey(quantizer)] = normalizedMse;
}

llvm::Expected<double>
DistortionTable::lookup(const QuantizerSpec &quantizer) const {
  auto it = values.find(distortionKey(quantizer));
  if (it != values.end())
    return it->second;
  if (useExpected)
    return quantizer.expectedDistortion();
  return makeError(llvm::formatv("no distortion for quantizer '{0}' in '{1}'",
                                 quantizer.referenceName(), sourceName));
}

llvm::Expected<DistortionTable> alloc::loadDistortionTable(StringRef path) {
  auto json = readJsonFile(path);
  if (!json)
    return json.takeError();
  return DistortionTable::fromJson(*json, path);
}

//===----------------------------------------------------------------------===//
// Palettes
//===----------------------------------------------------------------------===//

/// tcq_3..tcq_10 and tcomb_3_4..tcomb_9_10 (QDICT["default"]).
static std::vector<QuantizerSpec> referenceMemoryPalette() {
  std::vector<QuantizerSpec> palette;
  for (unsigned kv = 3; kv <= kMaxTcqKV; ++kv)
    palette.push_back(QuantizerSpec::tcq(kv));
  for (unsigned kv = 3; kv < kMaxTcqKV; ++kv)
    palette.push_back(QuantizerSpec::tcqSplit(kv, kv + 1));
  return palette;
}

/// The 32 quantizers of solve_lat_const.py, tensor-core kernels.
static std::vector<QuantizerSpec> referenceLatencyPalette() {
  std::vector<QuantizerSpec> palette = referenceMemoryPalette();
  for (unsigned bits = kMinSqBits; bits <= kMaxSqBits; ++bits)
    palette.push_back(QuantizerSpec::sq(bits));
  for (unsigned bits = 3; bits <= kMaxVqBits; ++bits)
    palette.push_back(QuantizerSpec::vq(bits));
  return palette;
}

std::vector<QuantizerSpec>
alloc::withSimtVariants(llvm::ArrayRef<QuantizerSpec> palette) {
  std::vector<QuantizerSpec> result(palette.begin(), palette.end());
  for (const QuantizerSpec &quantizer : palette) {
    if (!quantizer.hasSimtLayout())
      continue;
    QuantizerSpec simt = quantizer;
    simt.kernel = KernelKind::Simt;
    if (!llvm::is_contained(result, simt))
      result.push_back(simt);
  }
  return result;
}

llvm::Expected<std::vector<QuantizerSpec>> alloc::parsePalette(StringRef text) {
  text = text.trim();
  // A named palette with `-hess`: the same quantizers, rounded with LDLQ.
  if (text.consume_back("-hess")) {
    if (!llvm::is_contained(
            {StringRef("reference-memory"), StringRef("reference-latency"),
             StringRef("reference-latency-simt"), StringRef("full")},
            text))
      return makeError(llvm::formatv(
          "palette '{0}-hess': '-hess' follows a palette name "
          "(reference-memory, reference-latency, reference-latency-simt, "
          "full)",
          text));
    auto palette = parsePalette(text);
    if (!palette)
      return palette.takeError();
    for (QuantizerSpec &quantizer : *palette)
      quantizer.hessian = true;
    return palette;
  }
  if (text == "reference-memory")
    return referenceMemoryPalette();
  if (text == "reference-latency")
    return referenceLatencyPalette();
  if (text == "reference-latency-simt")
    return withSimtVariants(referenceLatencyPalette());
  if (text == "full")
    return referencePalette();
  llvm::SmallVector<StringRef> names;
  text.split(names, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  if (names.empty())
    return makeError("empty palette: give a palette name (reference-memory, "
                     "reference-latency, reference-latency-simt, full, each "
                     "also with -hess) or a comma-separated list of "
                     "quantizer names");
  std::vector<QuantizerSpec> palette;
  for (StringRef name : names) {
    auto quantizer = QuantizerSpec::parse(name.trim());
    if (!quantizer)
      return makeError(
          llvm::formatv("palette: {0}", llvm::toString(quantizer.takeError())));
    if (!llvm::is_contained(palette, *quantizer))
      palette.push_back(*quantizer);
  }
  return palette;
}
