//===- LayerErrors.cpp - Per-layer errors measured on a model -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/LayerErrors.h"

#include "qpal/Quant/QuantizerFamily.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

using namespace qpal;
using namespace qpal::alloc;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A quantizer as the table keys it: the tensor-core kernel (the error does
/// not depend on the kernel).
static QuantizerSpec canonical(const QuantizerSpec &quantizer) {
  QuantizerSpec result = quantizer;
  result.kernel = KernelKind::TensorCore;
  return result;
}

bool alloc::sameErrorClass(const QuantizerSpec &a, const QuantizerSpec &b) {
  if (a.hessian != b.hessian || a.code != b.code)
    return false;
  if (a.family == b.family)
    return true;
  return a.familyInfo().codecKind() == CodecKind::Trellis &&
         b.familyInfo().codecKind() == CodecKind::Trellis;
}

void LayerErrorModel::set(const QuantizerSpec &quantizer, unsigned block,
                          Projection projection, double error) {
  QuantizerSpec key = canonical(quantizer);
  auto it = llvm::find_if(
      entries, [&](const Entry &entry) { return entry.quantizer == key; });
  if (it == entries.end()) {
    Entry entry;
    entry.quantizer = key;
    std::array<double, kNumProjections> unset;
    unset.fill(std::numeric_limits<double>::quiet_NaN());
    entry.values.assign(blocks, unset);
    entries.push_back(std::move(entry));
    it = std::prev(entries.end());
  }
  if (block < blocks)
    it->values[block][static_cast<unsigned>(projection)] = error;
}

const LayerErrorModel::Entry *
LayerErrorModel::find(const QuantizerSpec &quantizer) const {
  QuantizerSpec key = canonical(quantizer);
  for (const Entry &entry : entries)
    if (entry.quantizer == key)
      return &entry;
  return nullptr;
}

std::vector<const LayerErrorModel::Entry *>
LayerErrorModel::classOf(const QuantizerSpec &quantizer) const {
  std::vector<const Entry *> result;
  for (const Entry &entry : entries)
    if (sameErrorClass(entry.quantizer, quantizer))
      result.push_back(&entry);
  // By rate; of one rate, in the order measured.
  llvm::sort(result, [](const Entry *a, const Entry *b) {
    double aBits = a->quantizer.bitsPerWeight();
    double bBits = b->quantizer.bitsPerWeight();
    return aBits != bBits ? aBits < bBits : a < b;
  });
  return result;
}

LayerErrorModel::Source
LayerErrorModel::sourceOf(const QuantizerSpec &quantizer) const {
  if (find(quantizer))
    return Source::Measured;
  if (!classOf(quantizer).empty())
    return Source::Modeled;
  return Source::Gaussian;
}

std::vector<QuantizerSpec> LayerErrorModel::measured() const {
  std::vector<QuantizerSpec> result;
  for (const Entry &entry : entries)
    result.push_back(entry.quantizer);
  return result;
}

/// The measured value of `entry` in one layer, or an error naming it.
static llvm::Expected<double>
valueAt(StringRef source, const QuantizerSpec &quantizer,
        const std::vector<std::array<double, kNumProjections>> &values,
        unsigned block, Projection projection) {
  double value = block < values.size()
                     ? values[block][static_cast<unsigned>(projection)]
                     : std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(value))
    return makeError(llvm::formatv(
        "layer errors '{0}' do not measure '{1}' in layer '{2}' (it cannot "
        "store the layer)",
        source, quantizer.referenceName(), layerKey(block, projection)));
  return value;
}

llvm::Expected<double>
LayerErrorModel::error(const QuantizerSpec &quantizer, unsigned block,
                       Projection projection,
                       const DistortionTable &gaussian) const {
  if (const Entry *entry = find(quantizer))
    return valueAt(sourceName, entry->quantizer, entry->values, block,
                   projection);
  std::vector<const Entry *> measuredClass = classOf(quantizer);
  auto target = gaussian.lookup(quantizer);
  if (!target)
    return target.takeError();
  if (measuredClass.empty()) {
    if (!quantizer.hessian)
      return *target;
    return makeError(llvm::formatv(
        "layer errors '{0}' measure no quantizer that rounds as '{1}' does "
        "(the same family, or any trellis code, with Hessian-aware "
        "rounding): measure one with `qpal layer-errors --quantizer`",
        sourceName, quantizer.referenceName()));
  }
  // log(rho) over bits per weight, linear between the measured rates next
  // to this one, constant beyond them.
  auto logRatio = [&](const Entry *entry) -> llvm::Expected<double> {
    auto measured =
        valueAt(sourceName, entry->quantizer, entry->values, block, projection);
    if (!measured)
      return measured.takeError();
    auto reference = gaussian.lookup(entry->quantizer);
    if (!reference)
      return reference.takeError();
    // A zero error (an all-zero layer) or Gaussian value has no ratio: the
    // ratio 1 keeps the Gaussian error.
    if (!(*measured > 0) || !(*reference > 0))
      return 0.0;
    return std::log(*measured / *reference);
  };
  double bits = quantizer.bitsPerWeight();
  const Entry *below = nullptr;
  const Entry *above = nullptr;
  for (const Entry *entry : measuredClass) {
    double rate = entry->quantizer.bitsPerWeight();
    if (rate <= bits)
      below = entry;
    if (rate >= bits && !above)
      above = entry;
  }
  if (!below)
    below = above;
  if (!above)
    above = below;
  auto low = logRatio(below);
  if (!low)
    return low.takeError();
  auto high = logRatio(above);
  if (!high)
    return high.takeError();
  double lowBits = below->quantizer.bitsPerWeight();
  double highBits = above->quantizer.bitsPerWeight();
  double weight =
      highBits > lowBits ? (bits - lowBits) / (highBits - lowBits) : 0.0;
  return *target * std::exp(*low + weight * (*high - *low));
}

llvm::Expected<LayerErrorModel>
LayerErrorModel::fromJson(const llvm::json::Value &json, StringRef source) {
  const llvm::json::Object *root = json.getAsObject();
  const llvm::json::Object *layers = root ? root->getObject("layers") : nullptr;
  if (!layers)
    return makeError(llvm::formatv(
        "layer errors '{0}': expected an object 'layers' mapping quantizer "
        "names to objects of layer keys (as `qpal layer-errors` writes)",
        source));
  if (layers->empty())
    return makeError(
        llvm::formatv("layer errors '{0}' measure no quantizer", source));
  // Quantizers arrive in key order; collect, then check that each covers
  // the same blocks.
  using Row = std::array<std::optional<double>, kNumProjections>;
  std::vector<std::pair<QuantizerSpec, std::map<unsigned, Row>>> parsed;
  // In name order, so that errors are the same whatever the hash order.
  std::vector<std::string> names;
  for (const auto &entry : *layers)
    names.push_back(entry.first.str());
  llvm::sort(names);
  for (const std::string &name : names) {
    const llvm::json::Value &layersValue = *layers->get(name);
    auto quantizer = QuantizerSpec::parse(name);
    if (!quantizer)
      return makeError(llvm::formatv("layer errors '{0}': {1}", source,
                                     llvm::toString(quantizer.takeError())));
    if (quantizer->family == QuantizerFamily::F16)
      return makeError(llvm::formatv(
          "layer errors '{0}': f16 is not quantized and has no error", source));
    if (llvm::any_of(parsed, [&](const auto &entry) {
          return canonical(entry.first) == canonical(*quantizer);
        }))
      return makeError(llvm::formatv(
          "layer errors '{0}': quantizer '{1}' appears twice", source, name));
    const llvm::json::Object *perLayer = layersValue.getAsObject();
    if (!perLayer)
      return makeError(llvm::formatv(
          "layer errors '{0}': '{1}' must map to an object of layer keys",
          source, name));
    std::map<unsigned, Row> values;
    for (const auto &[key, entry] : *perLayer) {
      auto layer = parseLayerKey(key);
      if (!layer)
        return makeError(
            llvm::formatv("layer errors '{0}', quantizer '{1}': {2}", source,
                          name, llvm::toString(layer.takeError())));
      const llvm::json::Object *fields = entry.getAsObject();
      std::optional<double> value =
          fields ? fields->getNumber("error") : std::nullopt;
      bool unstorable = fields && fields->getString("unstorable");
      if (!unstorable && (!value || !std::isfinite(*value) || *value < 0))
        return makeError(llvm::formatv(
            "layer errors '{0}', quantizer '{1}', layer '{2}': expected an "
            "object with a finite non-negative number 'error' (or "
            "'unstorable')",
            source, name, key.str()));
      // NaN: a layer the quantizer cannot store.
      values[layer->first][static_cast<unsigned>(layer->second)] =
          unstorable ? std::numeric_limits<double>::quiet_NaN() : *value;
    }
    if (values.empty())
      return makeError(
          llvm::formatv("layer errors '{0}': quantizer '{1}' measures no layer",
                        source, name));
    parsed.emplace_back(*quantizer, std::move(values));
  }
  // Every quantizer covers blocks 0..n-1, the same n; the first hole is
  // named before anything is sized by a block number.
  unsigned numBlocks = parsed.front().second.rbegin()->first + 1;
  for (const auto &[quantizer, values] : parsed) {
    unsigned expected = 0;
    for (const auto &[block, row] : values) {
      if (block != expected || block >= numBlocks)
        break;
      ++expected;
    }
    for (unsigned block = 0; block < numBlocks; ++block)
      for (Projection projection : kAllProjections) {
        auto it = values.find(block);
        if (block >= expected || it == values.end() ||
            !it->second[static_cast<unsigned>(projection)])
          return makeError(llvm::formatv(
              "layer errors '{0}': quantizer '{1}' lacks layer '{2}' (every "
              "quantizer must measure q, k, v, o, gate, up and down of "
              "blocks 0..{3})",
              source, quantizer.referenceName(), layerKey(block, projection),
              numBlocks - 1));
      }
    if (values.rbegin()->first >= numBlocks)
      return makeError(llvm::formatv(
          "layer errors '{0}': quantizer '{1}' measures block {2}, but '{3}' "
          "measures blocks 0..{4} only",
          source, quantizer.referenceName(), values.rbegin()->first,
          parsed.front().first.referenceName(), numBlocks - 1));
  }
  LayerErrorModel model(numBlocks, source.str());
  for (const auto &[quantizer, values] : parsed)
    for (const auto &[block, row] : values)
      for (Projection projection : kAllProjections)
        model.set(quantizer, block, projection,
                  *row[static_cast<unsigned>(projection)]);
  return model;
}

llvm::Expected<LayerErrorModel> alloc::loadLayerErrors(StringRef path) {
  auto json = readJsonFile(path);
  if (!json)
    return json.takeError();
  return LayerErrorModel::fromJson(*json, path);
}
