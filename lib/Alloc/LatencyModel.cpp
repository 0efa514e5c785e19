//===- LatencyModel.cpp - Latency tables and the roofline model -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/LatencyModel.h"

#include "qpal/Alloc/Inputs.h"
#include "qpal/Support/Limits.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace qpal;
using namespace qpal::alloc;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

LatencyModel::~LatencyModel() = default;

/// The table's JSON name of a kernel kind.
static StringRef kindKey(KernelKind kind) {
  return kind == KernelKind::Simt ? "SIMT" : "TC";
}

/// Table key of a quantizer: its reference name with the TC kernel and
/// data-free rounding. A `hess` quantizer differs from its `none` twin only
/// in which codes it chose (LDLQ): same layout, same kernels, same cost.
static std::string tableKey(const QuantizerSpec &quantizer) {
  QuantizerSpec canonical = quantizer;
  canonical.kernel = KernelKind::TensorCore;
  canonical.hessian = false;
  return canonical.referenceName();
}

static bool hasSimtKernel(const QuantizerSpec &quantizer) {
  return quantizer.hasSimtLayout();
}

//===----------------------------------------------------------------------===//
// LatencyTable
//===----------------------------------------------------------------------===//

LatencyTable::LatencyTable(std::string source, double constantSeconds)
    : source(std::move(source)), constant(constantSeconds) {}

void LatencyTable::set(FusionGroup group, const QuantizerSpec &quantizer,
                       KernelKind kind, double seconds) {
  auto &groupEntries = entries[static_cast<unsigned>(group)];
  auto it =
      groupEntries
          .try_emplace(tableKey(quantizer), Entry{std::nan(""), std::nan("")})
          .first;
  it->second[static_cast<unsigned>(kind)] = seconds;
}

void LatencyTable::setGroupShape(FusionGroup group, LayerShape shape) {
  shapes[static_cast<unsigned>(group)] = shape;
}

llvm::Expected<std::unique_ptr<LatencyTable>>
LatencyTable::fromJson(const llvm::json::Value &json, StringRef source) {
  const llvm::json::Object *root = json.getAsObject();
  if (!root)
    return makeError(
        llvm::formatv("latency table '{0}': expected a JSON object", source));
  std::optional<double> constant = root->getNumber("constant_s");
  if (!constant || !std::isfinite(*constant) || *constant < 0)
    return makeError(llvm::formatv(
        "latency table '{0}': expected a non-negative number 'constant_s'",
        source));
  const llvm::json::Object *latency = root->getObject("latency_s");
  if (!latency)
    return makeError(
        llvm::formatv("latency table '{0}': expected an object 'latency_s' "
                      "(group -> quantizer -> {{TC, SIMT} -> seconds)",
                      source));
  auto table = std::make_unique<LatencyTable>(source.str(), *constant);
  if (std::optional<StringRef> text = root->getString("description"))
    table->description = text->str();

  for (const auto &groupEntry : *latency) {
    auto group = parseFusionGroup(groupEntry.first);
    if (!group)
      return makeError(llvm::formatv("latency table '{0}': {1}", source,
                                     llvm::toString(group.takeError())));
    const llvm::json::Object *byQuantizer = groupEntry.second.getAsObject();
    if (!byQuantizer)
      return makeError(llvm::formatv(
          "latency table '{0}': group '{1}' must map quantizers to objects",
          source, groupEntry.first.str()));
    for (const auto &quantizerEntry : *byQuantizer) {
      auto quantizer = QuantizerSpec::parse(quantizerEntry.first);
      if (!quantizer)
        return makeError(llvm::formatv("latency table '{0}': {1}", source,
                                       llvm::toString(quantizer.takeError())));
      const llvm::json::Object *byKind = quantizerEntry.second.getAsObject();
      if (!byKind)
        return makeError(llvm::formatv(
            "latency table '{0}': '{1}'/'{2}' must map 'TC'/'SIMT' to seconds",
            source, groupEntry.first.str(), quantizerEntry.first.str()));
      for (const auto &kindEntry : *byKind) {
        KernelKind kind;
        if (kindEntry.first == "TC")
          kind = KernelKind::TensorCore;
        else if (kindEntry.first == "SIMT")
          kind = KernelKind::Simt;
        else
          return makeError(llvm::formatv(
              "latency table '{0}': unknown kernel kind '{1}' for '{2}'/'{3}' "
              "(expected TC or SIMT)",
              source, kindEntry.first.str(), groupEntry.first.str(),
              quantizerEntry.first.str()));
        std::optional<double> seconds = kindEntry.second.getAsNumber();
        if (!seconds || !std::isfinite(*seconds) || *seconds < 0)
          return makeError(llvm::formatv(
              "latency table '{0}': '{1}'/'{2}'/'{3}' must be a finite "
              "non-negative number of seconds",
              source, groupEntry.first.str(), quantizerEntry.first.str(),
              kindEntry.first.str()));
        if (kind == KernelKind::Simt && !hasSimtKernel(*quantizer))
          return makeError(llvm::formatv(
              "latency table '{0}': '{1}' has no SIMT kernel (only ldlq "
              "quantizers do)",
              source, quantizerEntry.first.str()));
        table->set(*group, *quantizer, kind, *seconds);
      }
    }
  }

  if (const llvm::json::Object *groups = root->getObject("groups")) {
    for (const auto &groupEntry : *groups) {
      auto group = parseFusionGroup(groupEntry.first);
      if (!group)
        return makeError(llvm::formatv("latency table '{0}': {1}", source,
                                       llvm::toString(group.takeError())));
      const llvm::json::Object *info = groupEntry.second.getAsObject();
      std::optional<int64_t> rows =
          info ? info->getInteger("out_features") : std::nullopt;
      std::optional<int64_t> cols =
          info ? info->getInteger("in_features") : std::nullopt;
      if (!rows || !cols)
        return makeError(llvm::formatv(
            "latency table '{0}': group '{1}' needs integer 'out_features' "
            "and 'in_features'",
            source, groupEntry.first.str()));
      if (llvm::Error err = checkMatrixShape(
              llvm::formatv("latency table '{0}': group '{1}': "
                            "'out_features' and 'in_features'",
                            source, groupEntry.first.str())
                  .str(),
              *rows, *cols))
        return err;
      table->setGroupShape(*group, {*rows, *cols});
    }
  }
  return table;
}

llvm::json::Value LatencyTable::toJson() const {
  llvm::json::Object latency, groups;
  for (FusionGroup group : kAllFusionGroups) {
    unsigned index = static_cast<unsigned>(group);
    if (!entries[index].empty()) {
      llvm::json::Object byQuantizer;
      for (const auto &entry : entries[index]) {
        llvm::json::Object byKind;
        for (KernelKind kind : {KernelKind::TensorCore, KernelKind::Simt})
          if (double seconds = entry.second[static_cast<unsigned>(kind)];
              !std::isnan(seconds))
            byKind[kindKey(kind)] = seconds;
        byQuantizer[entry.first()] = std::move(byKind);
      }
      latency[fusionGroupName(group)] = std::move(byQuantizer);
    }
    if (const std::optional<LayerShape> &shape = shapes[index]) {
      llvm::json::Array projections;
      for (Projection member : fusionGroupMembers(group))
        projections.push_back(projectionModulePath(member));
      groups[fusionGroupName(group)] =
          llvm::json::Object{{"projections", std::move(projections)},
                             {"out_features", shape->rows},
                             {"in_features", shape->cols}};
    }
  }
  llvm::json::Object root{
      {"description", description},
      {"units", "seconds per decode step (batch 1); one entry is one block's "
                "instance of the group"},
      {"constant_s", constant},
      {"latency_s_layout", "latency_s[group][quantizer][kind], kind in {TC, "
                           "SIMT}"},
      {"latency_s", std::move(latency)}};
  if (!groups.empty())
    root["groups"] = std::move(groups);
  return root;
}

llvm::Expected<double>
LatencyTable::groupSeconds(FusionGroup group, LayerShape shape,
                           const QuantizerSpec &quantizer,
                           KernelKind kind) const {
  unsigned index = static_cast<unsigned>(group);
  if (const std::optional<LayerShape> &measured = shapes[index];
      measured && !(*measured == shape))
    return makeError(llvm::formatv(
        "latency table '{0}' was measured for group '{1}' of shape {2}x{3}, "
        "not {4}x{5}: use a table of this model or the roofline model",
        source, fusionGroupName(group), measured->rows, measured->cols,
        shape.rows, shape.cols));
  if (kind == KernelKind::Simt && !hasSimtKernel(quantizer))
    return makeError(llvm::formatv("quantizer '{0}' has no SIMT kernel",
                                   tableKey(quantizer)));
  KernelKind priced = priceSimtAsTensorCore ? KernelKind::TensorCore : kind;
  const auto &groupEntries = entries[index];
  auto it = groupEntries.find(tableKey(quantizer));
  double seconds = it == groupEntries.end()
                       ? std::nan("")
                       : it->second[static_cast<unsigned>(priced)];
  if (std::isnan(seconds))
    return makeError(llvm::formatv(
        "latency table '{0}' has no entry for group '{1}', quantizer '{2}', "
        "kernel {3}",
        source, fusionGroupName(group), tableKey(quantizer), kindKey(priced)));
  return seconds;
}

std::string LatencyTable::describe() const {
  std::string text = llvm::formatv("latency table '{0}'", source).str();
  if (priceSimtAsTensorCore)
    text += " (SIMT priced as TC, as the released solver)";
  return text;
}

llvm::Expected<std::unique_ptr<LatencyTable>>
alloc::loadLatencyTable(StringRef path) {
  auto json = readJsonFile(path);
  if (!json)
    return json.takeError();
  return LatencyTable::fromJson(*json, path);
}

//===----------------------------------------------------------------------===//
// RooflineModel
//===----------------------------------------------------------------------===//

RooflineParams RooflineParams::rtx4090() { return RooflineParams(); }

RooflineParams RooflineParams::h100() {
  RooflineParams params;
  params.dramGBps = 3350;
  params.smCount = 132;
  params.perSmGBps = 60;
  params.launchMicros = 4.0;
  params.otherMicrosPerBlock = 8.0;
  return params;
}

RooflineModel::RooflineModel(const ModelConfig &model, RooflineParams params)
    : parameters(params) {
  double lmHeadBytes = 2.0 * static_cast<double>(model.vocabSize) *
                       static_cast<double>(model.hiddenSize);
  constant =
      lmHeadBytes / (params.dramGBps * 1e9 * params.bandwidthEfficiency) +
      params.otherMicrosPerBlock * 1e-6 * static_cast<double>(model.numBlocks);
}

llvm::Expected<double>
RooflineModel::groupSeconds(FusionGroup group, LayerShape shape,
                            const QuantizerSpec &quantizer,
                            KernelKind kind) const {
  if (kind == KernelKind::Simt && !hasSimtKernel(quantizer))
    return makeError(llvm::formatv("quantizer '{0}' has no SIMT kernel",
                                   tableKey(quantizer)));
  if (shape.rows <= 0 || shape.cols <= 0)
    return makeError(llvm::formatv("roofline model: group '{0}' has an empty "
                                   "shape {1}x{2}",
                                   fusionGroupName(group), shape.rows,
                                   shape.cols));
  double bytes = static_cast<double>(
      quantizer.codeBytes(shape.rows, shape.cols) + quantizer.codebookBytes() +
      quantizer.scaleBytes(shape.rows));
  bytes += 2.0 * static_cast<double>(shape.cols);
  bytes +=
      (kind == KernelKind::Simt ? 2.0 : 4.0) * static_cast<double>(shape.rows);
  unsigned rowsPerBlock = kind == KernelKind::Simt
                              ? parameters.simtRowsPerBlock
                              : parameters.tensorCoreRowsPerBlock;
  double busy = std::min<double>(
      parameters.smCount,
      std::ceil(static_cast<double>(shape.rows) / std::max(1u, rowsPerBlock)));
  double bandwidth =
      1e9 * std::min(parameters.dramGBps * parameters.bandwidthEfficiency,
                     busy * parameters.perSmGBps);
  return parameters.launchMicros * 1e-6 + bytes / bandwidth;
}

std::string RooflineModel::describe() const {
  return llvm::formatv("roofline model ({0} GB/s x {1}, {2} SMs x {3} GB/s, "
                       "{4} us per GEMV)",
                       parameters.dramGBps, parameters.bandwidthEfficiency,
                       parameters.smCount, parameters.perSmGBps,
                       parameters.launchMicros)
      .str();
}
