//===- Plan.cpp - MSQ plans: costs, JSON and the summary ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/Plan.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstdio>
#include <map>

using namespace qpal;
using namespace qpal::alloc;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

StringRef alloc::stringifyMemoryModel(MemoryModel model) {
  return model == MemoryModel::Reference ? "reference" : "full";
}

llvm::Expected<MemoryModel> alloc::parseMemoryModel(StringRef text) {
  if (text == "reference")
    return MemoryModel::Reference;
  if (text == "full")
    return MemoryModel::Full;
  return makeError(llvm::formatv(
      "unknown memory model '{0}': expected 'reference' (codes and codebooks, "
      "as the released solver) or 'full' (also scales and sign vectors)",
      text));
}

StringRef alloc::stringifySolveStatus(SolveStatus status) {
  switch (status) {
  case SolveStatus::Optimal:
    return "optimal";
  case SolveStatus::Feasible:
    return "feasible";
  case SolveStatus::Unsolved:
    return "unsolved";
  }
  llvm_unreachable("unknown status");
}

//===----------------------------------------------------------------------===//
// Memory and blocks
//===----------------------------------------------------------------------===//

uint64_t MemoryBreakdown::bytes(MemoryModel model) const {
  uint64_t total = codeBytes + codebookBytes;
  if (model == MemoryModel::Full)
    total += scaleBytes + signBytes;
  return total;
}

double MemoryBreakdown::avgBits(MemoryModel model) const {
  return fp16Bytes == 0 ? 0.0
                        : 16.0 * static_cast<double>(bytes(model)) /
                              static_cast<double>(fp16Bytes);
}

void MemoryBreakdown::addLayer(const QuantizerSpec &quantizer,
                               LayerShape shape) {
  codeBytes += quantizer.codeBytes(shape.rows, shape.cols);
  codebookBytes += quantizer.codebookBytes();
  scaleBytes += quantizer.scaleBytes(shape.rows);
  fp16Bytes += shape.weights() * 2;
}

std::vector<FusionGroup> BlockPlan::fusedGroups() const {
  std::vector<FusionGroup> fused;
  for (FusionGroup group : groups)
    if (isFusedGroup(group))
      fused.push_back(group);
  return fused;
}

std::optional<double> Plan::tokensPerSecond() const {
  if (!secondsPerToken || *secondsPerToken <= 0)
    return std::nullopt;
  return 1.0 / *secondsPerToken;
}

llvm::Error alloc::verifyCover(const Plan &plan) {
  for (unsigned b = 0; b < plan.blocks.size(); ++b) {
    const BlockPlan &block = plan.blocks[b];
    std::array<unsigned, kNumProjections> covered{};
    for (FusionGroup group : block.groups) {
      const QuantizerSpec &first =
          block.quantizer(fusionGroupMembers(group).front());
      for (Projection member : fusionGroupMembers(group)) {
        ++covered[static_cast<unsigned>(member)];
        if (block.quantizer(member) != first)
          return makeError(llvm::formatv(
              "block {0}: fused group '{1}' mixes quantizers '{2}' and '{3}'",
              b, fusionGroupName(group), first.referenceName(),
              block.quantizer(member).referenceName()));
      }
    }
    for (Projection projection : kAllProjections) {
      unsigned count = covered[static_cast<unsigned>(projection)];
      if (count != 1)
        return makeError(llvm::formatv(
            "block {0}: layer '{1}' is covered {2} times by the fusion groups "
            "(expected exactly once)",
            b, projectionShortName(projection), count));
      const QuantizerSpec &quantizer = block.quantizer(projection);
      if (auto err = quantizer.verify())
        return makeError(llvm::formatv("layer '{0}': {1}",
                                       layerKey(b, projection),
                                       llvm::toString(std::move(err))));
    }
  }
  return llvm::Error::success();
}

void BlockPlan::coverWithSingletons() {
  std::array<bool, kNumProjections> covered{};
  for (FusionGroup group : groups)
    for (Projection member : fusionGroupMembers(group))
      covered[static_cast<unsigned>(member)] = true;
  for (Projection projection : kAllProjections)
    if (!covered[static_cast<unsigned>(projection)])
      groups.push_back(singletonGroup(projection));
  llvm::sort(groups);
}

llvm::Error alloc::completePlan(Plan &plan) {
  for (BlockPlan &block : plan.blocks)
    block.coverWithSingletons();
  if (auto err = verifyCover(plan))
    return err;
  plan.memory = MemoryBreakdown();
  for (const BlockPlan &block : plan.blocks)
    for (Projection projection : kAllProjections)
      plan.memory.addLayer(block.quantizer(projection),
                           plan.model.shape(projection));
  plan.memory.signBytes = plan.model.signBytesPerBlock() *
                          static_cast<uint64_t>(plan.blocks.size());
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

static llvm::json::Object modelToJson(const ModelConfig &model) {
  return llvm::json::Object{{"name", model.name},
                            {"hidden_size", model.hiddenSize},
                            {"intermediate_size", model.intermediateSize},
                            {"num_attention_heads", model.numHeads},
                            {"num_key_value_heads", model.numKvHeads},
                            {"head_dim", model.headDim},
                            {"num_hidden_layers", model.numBlocks},
                            {"vocab_size", model.vocabSize}};
}

static llvm::Expected<ModelConfig>
modelFromJson(const llvm::json::Object &json) {
  ModelConfig model;
  if (std::optional<StringRef> name = json.getString("name"))
    model.name = name->str();
  struct Field {
    const char *key;
    int64_t *value;
    bool required;
  } fields[] = {{"hidden_size", &model.hiddenSize, true},
                {"intermediate_size", &model.intermediateSize, true},
                {"num_attention_heads", &model.numHeads, true},
                {"num_key_value_heads", &model.numKvHeads, true},
                {"head_dim", &model.headDim, true},
                {"num_hidden_layers", &model.numBlocks, true},
                {"vocab_size", &model.vocabSize, false}};
  for (const Field &field : fields) {
    std::optional<int64_t> value = json.getInteger(field.key);
    if (!value && field.required)
      return makeError(
          llvm::formatv("plan: 'model' needs an integer '{0}'", field.key));
    if (value)
      *field.value = *value;
  }
  if (auto err = model.verify())
    return std::move(err);
  return model;
}

llvm::json::Value alloc::toJson(const Plan &plan) {
  llvm::json::Object layers, fusion;
  for (unsigned b = 0; b < plan.blocks.size(); ++b) {
    const BlockPlan &block = plan.blocks[b];
    for (Projection projection : kAllProjections)
      layers[layerKey(b, projection)] =
          block.quantizer(projection).referenceName();
    llvm::json::Array fused;
    for (FusionGroup group : block.fusedGroups())
      fused.push_back(fusionGroupName(group));
    fusion[std::to_string(b)] = std::move(fused);
  }
  llvm::json::Object budget;
  if (plan.budgetBitsPerWeight)
    budget["bits_per_weight"] = *plan.budgetBitsPerWeight;
  if (plan.budgetBytes)
    budget["bytes"] = static_cast<int64_t>(*plan.budgetBytes);
  if (plan.budgetTokensPerSecond)
    budget["tokens_per_second"] = *plan.budgetTokensPerSecond;
  llvm::json::Array notes;
  for (const std::string &note : plan.notes)
    notes.push_back(note);

  llvm::json::Object root{
      {"status", stringifySolveStatus(plan.status)},
      {"objective", plan.objective},
      {"bound", plan.bound},
      {"gap", plan.gap},
      {"gap_target", plan.gapTarget},
      {"avg_bits", plan.memory.avgBits(MemoryModel::Reference)},
      {"avg_bits_full", plan.memory.avgBits(MemoryModel::Full)},
      {"memory_model", stringifyMemoryModel(plan.memoryModel)},
      {"memory_bytes",
       llvm::json::Object{
           {"codes", static_cast<int64_t>(plan.memory.codeBytes)},
           {"codebooks", static_cast<int64_t>(plan.memory.codebookBytes)},
           {"scales", static_cast<int64_t>(plan.memory.scaleBytes)},
           {"signs", static_cast<int64_t>(plan.memory.signBytes)},
           {"fp16", static_cast<int64_t>(plan.memory.fp16Bytes)}}},
      {"budget", std::move(budget)},
      {"solver", plan.solver},
      {"solve_seconds", plan.solveSeconds},
      {"nodes", plan.nodes},
      {"variables", static_cast<int64_t>(plan.variables)},
      {"variables_after_pruning",
       static_cast<int64_t>(plan.variablesAfterPruning)},
      {"constraints", static_cast<int64_t>(plan.constraints)},
      {"model", modelToJson(plan.model)},
      {"plan", std::move(layers)},
      {"fusion", std::move(fusion)},
      {"notes", std::move(notes)}};
  if (plan.secondsPerToken) {
    root["predicted_seconds_per_token"] = *plan.secondsPerToken;
    root["predicted_tokens_per_second"] = *plan.tokensPerSecond();
    root["latency_model"] = plan.latencyModel;
  }
  if (plan.informationTheoreticObjective)
    root["information_theoretic_objective"] =
        *plan.informationTheoreticObjective;
  return root;
}

llvm::Expected<Plan> alloc::planFromJson(const llvm::json::Value &json) {
  const llvm::json::Object *root = json.getAsObject();
  if (!root)
    return makeError("plan: expected a JSON object");
  const llvm::json::Object *modelJson = root->getObject("model");
  if (!modelJson)
    return makeError("plan: expected an object 'model' with the layer "
                     "dimensions");
  auto model = modelFromJson(*modelJson);
  if (!model)
    return model.takeError();
  Plan plan;
  plan.model = *model;
  unsigned numBlocks = model->numBlocks;

  const llvm::json::Object *layers = root->getObject("plan");
  if (!layers)
    return makeError("plan: expected an object 'plan' mapping layer keys to "
                     "quantizer names");
  std::vector<std::array<std::optional<QuantizerSpec>, kNumProjections>> seen(
      numBlocks);
  for (const auto &entry : *layers) {
    auto key = parseLayerKey(entry.first);
    if (!key)
      return makeError(
          llvm::formatv("plan: {0}", llvm::toString(key.takeError())));
    if (key->first >= numBlocks)
      return makeError(
          llvm::formatv("plan: layer '{0}' is beyond the model's {1} blocks",
                        entry.first.str(), numBlocks));
    std::optional<StringRef> name = entry.second.getAsString();
    if (!name)
      return makeError(llvm::formatv(
          "plan: layer '{0}' must map to a quantizer name", entry.first.str()));
    auto quantizer = QuantizerSpec::parse(*name);
    if (!quantizer)
      return makeError(llvm::formatv("plan: layer '{0}': {1}",
                                     entry.first.str(),
                                     llvm::toString(quantizer.takeError())));
    seen[key->first][static_cast<unsigned>(key->second)] = *quantizer;
  }
  const llvm::json::Object *fusion = root->getObject("fusion");
  plan.blocks.resize(numBlocks);
  for (unsigned b = 0; b < numBlocks; ++b) {
    BlockPlan &block = plan.blocks[b];
    for (Projection projection : kAllProjections) {
      const auto &quantizer = seen[b][static_cast<unsigned>(projection)];
      if (!quantizer)
        return makeError(llvm::formatv("plan: missing layer '{0}'",
                                       layerKey(b, projection)));
      block.quantizers[static_cast<unsigned>(projection)] = *quantizer;
    }
    if (const llvm::json::Array *fused =
            fusion ? fusion->getArray(std::to_string(b)) : nullptr) {
      for (const llvm::json::Value &value : *fused) {
        std::optional<StringRef> name = value.getAsString();
        if (!name)
          return makeError(llvm::formatv(
              "plan: fusion of block {0} must list group names", b));
        auto group = parseFusionGroup(*name);
        if (!group)
          return makeError(llvm::formatv("plan: block {0}: {1}", b,
                                         llvm::toString(group.takeError())));
        block.groups.push_back(*group);
      }
    }
  }
  if (auto err = completePlan(plan))
    return makeError(
        llvm::formatv("plan: {0}", llvm::toString(std::move(err))));

  if (std::optional<StringRef> status = root->getString("status")) {
    if (*status == "optimal")
      plan.status = SolveStatus::Optimal;
    else if (*status == "feasible")
      plan.status = SolveStatus::Feasible;
  }
  auto number = [&](StringRef key, double &out) {
    if (std::optional<double> value = root->getNumber(key))
      out = *value;
  };
  number("objective", plan.objective);
  number("bound", plan.bound);
  number("gap", plan.gap);
  number("gap_target", plan.gapTarget);
  number("solve_seconds", plan.solveSeconds);
  if (std::optional<int64_t> nodes = root->getInteger("nodes"))
    plan.nodes = *nodes;
  if (std::optional<int64_t> value = root->getInteger("variables"))
    plan.variables = *value;
  if (std::optional<int64_t> value =
          root->getInteger("variables_after_pruning"))
    plan.variablesAfterPruning = *value;
  if (std::optional<int64_t> value = root->getInteger("constraints"))
    plan.constraints = *value;
  if (std::optional<StringRef> text = root->getString("memory_model")) {
    auto parsed = parseMemoryModel(*text);
    if (!parsed)
      return parsed.takeError();
    plan.memoryModel = *parsed;
  }
  if (std::optional<double> seconds =
          root->getNumber("predicted_seconds_per_token"))
    plan.secondsPerToken = *seconds;
  if (std::optional<StringRef> text = root->getString("solver"))
    plan.solver = text->str();
  if (std::optional<StringRef> text = root->getString("latency_model"))
    plan.latencyModel = text->str();
  if (std::optional<double> value =
          root->getNumber("information_theoretic_objective"))
    plan.informationTheoreticObjective = *value;
  if (const llvm::json::Object *budget = root->getObject("budget")) {
    if (std::optional<double> value = budget->getNumber("bits_per_weight"))
      plan.budgetBitsPerWeight = *value;
    if (std::optional<int64_t> value = budget->getInteger("bytes"))
      plan.budgetBytes = *value;
    if (std::optional<double> value = budget->getNumber("tokens_per_second"))
      plan.budgetTokensPerSecond = *value;
  }
  if (const llvm::json::Array *notes = root->getArray("notes"))
    for (const llvm::json::Value &note : *notes)
      if (std::optional<StringRef> text = note.getAsString())
        plan.notes.push_back(text->str());
  return plan;
}

//===----------------------------------------------------------------------===//
// Summary
//===----------------------------------------------------------------------===//

/// Short label of a quantizer's rate: `3.25`, with `s` for SIMT kernels.
static std::string rateLabel(const QuantizerSpec &quantizer) {
  std::string text = llvm::formatv("{0:f2}", quantizer.bitsPerWeight()).str();
  if (quantizer.kernel == KernelKind::Simt)
    text += "s";
  return text;
}

static double mib(uint64_t bytes) { return bytes / 1048576.0; }

/// `value` with up to six significant digits.
static std::string formatNumber(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

void alloc::printSummary(const Plan &plan, llvm::raw_ostream &os) {
  os << "MSQ plan for " << plan.model.name << " (" << plan.blocks.size()
     << " blocks): " << stringifySolveStatus(plan.status);
  if (plan.status != SolveStatus::Unsolved)
    os << llvm::formatv(" by {7}, gap {0:f4}% (target {1:f4}%), {2:f2} s, "
                        "{3} nodes, {4} binaries ({5} after pruning), {6} "
                        "rows",
                        plan.gap * 100, plan.gapTarget * 100, plan.solveSeconds,
                        plan.nodes, plan.variables, plan.variablesAfterPruning,
                        plan.constraints, plan.solver);
  os << "\n";
  if (plan.budgetBitsPerWeight)
    os << llvm::formatv("memory budget: {0} bits/weight ({1} memory model)\n",
                        formatNumber(*plan.budgetBitsPerWeight),
                        stringifyMemoryModel(plan.memoryModel));
  if (plan.budgetBytes)
    os << llvm::formatv("memory budget: {0} bytes ({1} memory model)\n",
                        *plan.budgetBytes,
                        stringifyMemoryModel(plan.memoryModel));
  if (plan.budgetTokensPerSecond)
    os << llvm::formatv("latency budget: {0} tokens/s ({1:f4} ms/token)\n",
                        formatNumber(*plan.budgetTokensPerSecond),
                        1e3 / *plan.budgetTokensPerSecond);

  // Per-block table: bits of each layer, `s` for SIMT, and the fused groups.
  os << "\n  blk";
  for (Projection projection : kAllProjections)
    os << llvm::format("%7s", projectionShortName(projection).str().c_str());
  os << "  fused\n";
  for (unsigned b = 0; b < plan.blocks.size(); ++b) {
    const BlockPlan &block = plan.blocks[b];
    os << llvm::format("%5u", b);
    for (Projection projection : kAllProjections)
      os << llvm::format("%7s", rateLabel(block.quantizer(projection)).c_str());
    os << "  ";
    std::vector<FusionGroup> fused = block.fusedGroups();
    if (fused.empty())
      os << "-";
    llvm::interleave(
        fused, os, [&](FusionGroup group) { os << fusionGroupName(group); },
        ",");
    os << "\n";
  }
  os << "  (bits per weight of the chosen quantizer; 's' = SIMT kernel)\n\n";

  // Counts per quantizer, by rate.
  std::map<std::pair<double, std::string>, unsigned> counts;
  for (const BlockPlan &block : plan.blocks)
    for (Projection projection : kAllProjections)
      ++counts[{block.quantizer(projection).bitsPerWeight(),
                block.quantizer(projection).referenceName()}];
  os << "  quantizer                          bits  layers\n";
  for (const auto &[key, count] : counts)
    os << llvm::format("  %-33s %5.2f  %6u\n", key.second.c_str(), key.first,
                       count);

  const MemoryBreakdown &memory = plan.memory;
  os << llvm::formatv(
      "\nmemory: codes {0:f1} MiB + codebooks {1:f2} MiB = {2:f1} MiB "
      "(reference model); + scales {3:f2} MiB + signs {4:f3} MiB = {5:f1} "
      "MiB (full)\n",
      mib(memory.codeBytes), mib(memory.codebookBytes),
      mib(memory.bytes(MemoryModel::Reference)), mib(memory.scaleBytes),
      mib(memory.signBytes), mib(memory.bytes(MemoryModel::Full)));
  os << llvm::formatv("average bits: {0:f4} (reference: 16 * (codes + "
                      "codebooks) / fp16), {1:f4} (full overhead)\n",
                      memory.avgBits(MemoryModel::Reference),
                      memory.avgBits(MemoryModel::Full));
  if (plan.secondsPerToken)
    os << llvm::formatv("predicted latency: {0:f4} ms/token = {1:f1} "
                        "tokens/s ({2})\n",
                        *plan.secondsPerToken * 1e3, *plan.tokensPerSecond(),
                        plan.latencyModel);
  os << llvm::formatv("objective sum a_l err(q_l): {0:e4}, proven bound "
                      "{1:e4}",
                      plan.objective, plan.bound);
  if (plan.informationTheoreticObjective)
    os << llvm::formatv("; ideal Gaussian quantizers (water filling) at the "
                        "same memory: {0:e4} (plan / ideal = {1:f3})",
                        *plan.informationTheoreticObjective,
                        *plan.informationTheoreticObjective > 0
                            ? plan.objective /
                                  *plan.informationTheoreticObjective
                            : 0.0);
  os << "\n";
  for (const std::string &note : plan.notes)
    os << "note: " << note << "\n";
}
