//===- AllocateBits.cpp - Mixed-scheme quantizer and fusion choice --------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Reads the linear layers of a module (block, role, sensitivity and weight
// shape), poses the MSQ problem of qpal::alloc, solves it, and writes the plan
// back: a quantizer on every linear and a `qpal.fusion_group` per fused group.
//
//===----------------------------------------------------------------------===//

#include "qpal/Alloc/ProblemBuilder.h"
#include "qpal/Passes/Allocation.h"
#include "qpal/Passes/Passes.h"

#include "qpal/Alloc/Msq.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace qpal {
#define GEN_PASS_DEF_ALLOCATEBITSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;
using alloc::FusionGroup;
using alloc::kNumProjections;
using alloc::LayerShape;
using alloc::Projection;

// A role is the projection of the same index: the dialect and the planner
// both follow the reference's layer order q, k, v, o, gate, up, down.
static_assert(static_cast<unsigned>(LinearRole::q) ==
                      static_cast<unsigned>(Projection::Q) &&
                  static_cast<unsigned>(LinearRole::gate) ==
                      static_cast<unsigned>(Projection::Gate) &&
                  static_cast<unsigned>(LinearRole::down) ==
                      static_cast<unsigned>(Projection::Down),
              "LinearRole and alloc::Projection must share their order");

namespace {

/// The module's linear layers, one per block and role, and the model shape
/// they imply.
struct ModelLayers {
  alloc::ModelConfig model;
  std::vector<std::array<LinearOp, kNumProjections>> linears;

  LinearOp at(unsigned block, Projection projection) const {
    return linears[block][static_cast<unsigned>(projection)];
  }
};

/// `value` as `%g` prints it.
std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// Starts an error at the module's location. Unlike `module.emitError()` it
/// does not attach the whole module to the diagnostic.
InFlightDiagnostic emitModuleError(ModuleOp module) {
  return mlir::emitError(module.getLoc());
}

/// Returns the M x K shape of `linear`'s weight, or emits an error.
FailureOr<LayerShape> weightShape(LinearOp linear,
                                  SymbolTableCollection &symbols) {
  FailureOr<std::pair<int64_t, int64_t>> shape = linear.getWeightShape(symbols);
  if (failed(shape))
    return failure();
  return LayerShape{shape->first, shape->second};
}

/// Derives the Llama configuration from block 0 (q, k and gate fix every
/// dimension) and checks every layer's weight against it.
LogicalResult deriveModel(ModuleOp module, ModelLayers &layers) {
  SymbolTableCollection symbols;
  FailureOr<LayerShape> q = weightShape(layers.at(0, Projection::Q), symbols);
  FailureOr<LayerShape> k = weightShape(layers.at(0, Projection::K), symbols);
  FailureOr<LayerShape> gate =
      weightShape(layers.at(0, Projection::Gate), symbols);
  if (failed(q) || failed(k) || failed(gate))
    return failure();
  if (q->rows % k->rows != 0)
    return layers.at(0, Projection::K).emitOpError()
           << "expects the rows of 'q' (" << q->rows
           << ") to be a multiple of the rows of 'k', as in grouped-query "
              "attention, got "
           << k->rows;

  alloc::ModelConfig &model = layers.model;
  model.name = module.getSymName().value_or("module").str();
  model.hiddenSize = q->cols;
  model.intermediateSize = gate->rows;
  // Only the products heads x head_dim fix shapes: one KV head of k's rows.
  model.headDim = k->rows;
  model.numHeads = q->rows / k->rows;
  model.numKvHeads = 1;
  model.numBlocks = layers.linears.size();
  // An attention op states the real head split (only the products fix the
  // layer shapes, but plans report the model).
  module.walk([&](AttentionOp attention) {
    int64_t heads = attention.getNumHeads(),
            kvHeads = attention.getNumKvHeads();
    int64_t dim = attention.getHeadDim();
    if (heads * dim == q->rows && kvHeads * dim == k->rows) {
      model.headDim = dim;
      model.numHeads = heads;
      model.numKvHeads = kvHeads;
    }
    return WalkResult::interrupt();
  });
  // The fp16 LM head is outside the plan; the roofline model prices it.
  module.walk([&](LmHeadOp head) {
    if (auto weight = symbols.lookupNearestSymbolFrom<WeightOp>(
            head, head.getWeightAttr().getAttr()))
      model.vocabSize = weight.getTensorType().getDimSize(0);
  });
  if (llvm::Error err = model.verify())
    return emitModuleError(module) << llvm::toString(std::move(err));

  for (unsigned block = 0; block < layers.linears.size(); ++block)
    for (Projection projection : alloc::kAllProjections) {
      LinearOp linear = layers.at(block, projection);
      FailureOr<LayerShape> shape = weightShape(linear, symbols);
      if (failed(shape))
        return failure();
      LayerShape expected = model.shape(projection);
      if (!(*shape == expected))
        return linear.emitOpError() << llvm::formatv(
                   "expects a {0}x{1} weight for role '{2}' (the model "
                   "shape of block 0's q, k and gate), @{3} is {4}x{5}",
                   expected.rows, expected.cols,
                   alloc::projectionShortName(projection), linear.getWeight(),
                   shape->rows, shape->cols);
    }
  return success();
}

/// Collects one linear per (block, role) for blocks 0..max and derives the
/// model shape; every problem is reported before failing.
FailureOr<ModelLayers> collectLayers(ModuleOp module,
                                     bool needSensitivity = true) {
  std::map<int64_t, std::array<LinearOp, kNumProjections>> byBlock;
  bool failedAny = false;
  module.walk([&](LinearOp linear) {
    // The LM head (qpal-assign-lm-head) is not an MSQ variable.
    if (linear.getRole() == LinearRole::lm_head)
      return;
    SmallVector<StringRef, 3> missing;
    if (!linear.getBlock())
      missing.push_back("'block'");
    if (!linear.getRole())
      missing.push_back("'role'");
    if (needSensitivity && !linear.getSensitivity())
      missing.push_back("'sensitivity'");
    if (!missing.empty()) {
      linear.emitOpError()
          << "expects 'block', 'role' and 'sensitivity' for allocation, @"
          << linear.getWeight() << " lacks " << llvm::join(missing, ", ");
      failedAny = true;
      return;
    }
    LinearOp &slot =
        byBlock[*linear.getBlock()][static_cast<unsigned>(*linear.getRole())];
    if (slot) {
      linear.emitOpError() << "repeats layer '" << linear.getLayerKey()
                           << "' of @" << slot.getWeight()
                           << ": allocation expects one linear per block "
                              "and role";
      failedAny = true;
      return;
    }
    slot = linear;
  });
  if (failedAny)
    return failure();
  if (byBlock.empty())
    return emitModuleError(module)
           << "qpal-allocate-bits found no 'qpal.linear' "
              "to allocate";

  ModelLayers layers;
  int64_t numBlocks = byBlock.rbegin()->first + 1;
  for (int64_t block = 0; block < numBlocks; ++block) {
    auto it = byBlock.find(block);
    for (Projection projection : alloc::kAllProjections)
      if (it == byBlock.end() || !it->second[static_cast<unsigned>(projection)])
        return emitModuleError(module) << llvm::formatv(
                   "expects blocks 0..{0} to each have all 7 roles (q, k, v, "
                   "o, gate, up, down), block {1} has no '{2}'",
                   numBlocks - 1, block,
                   alloc::projectionShortName(projection));
    layers.linears.push_back(it->second);
  }
  if (failed(deriveModel(module, layers)))
    return failure();
  return layers;
}

/// Emits `err` on `module` and fails.
LogicalResult emitLibraryError(ModuleOp module, llvm::Error err) {
  return emitModuleError(module) << llvm::toString(std::move(err));
}

/// Builds the MSQ instance of `layers` for `request` (the module's palette
/// when the request names none).
FailureOr<alloc::MsqProblem> buildProblem(ModuleOp module,
                                          const ModelLayers &layers,
                                          alloc::MsqRequest request) {
  alloc::MsqProblem problem;
  problem.model = layers.model;
  problem.sensitivities.coefficients.resize(layers.linears.size());
  for (unsigned block = 0; block < layers.linears.size(); ++block)
    for (Projection projection : alloc::kAllProjections)
      problem.sensitivities
          .coefficients[block][static_cast<unsigned>(projection)] =
          layers.at(block, projection).getSensitivity()->convertToDouble();
  if (PaletteAttr attached = getModulePalette(module))
    for (QuantizerAttrInterface quantizer : attached.getQuantizers())
      request.fallbackPalette.push_back(quantizer.getSpec());
  if (llvm::Error err = alloc::configureMsqProblem(problem, request))
    return emitModuleError(module)
           << "qpal-allocate-bits: " << llvm::toString(std::move(err));
  return problem;
}

/// Wraps the `group` members of `block` in a `qpal.fusion_group` placed
/// before the earliest member, or leaves them unfused with a remark when
/// they do not read one value in one block.
void formFusionGroup(const ModelLayers &layers, unsigned block,
                     FusionGroup group) {
  SmallVector<LinearOp, 3> members;
  for (Projection projection : alloc::fusionGroupMembers(group))
    members.push_back(layers.at(block, projection));
  LinearOp first = members.front();
  for (LinearOp member : members) {
    const char *reason = nullptr;
    if (member.getInput() != first.getInput())
      reason = "its members read different values";
    else if (member->getBlock() != first->getBlock())
      reason = "its members are in different blocks of the IR";
    if (!reason)
      continue;
    first.emitRemark() << "fusion group '" << alloc::fusionGroupName(group)
                       << "' of block " << block << " left unfused: " << reason
                       << " (the predicted latency assumes it fused)";
    return;
  }

  Operation *earliest = first;
  SmallVector<Location> locations;
  SmallVector<Type> types;
  for (LinearOp member : members) {
    if (member->isBeforeInBlock(earliest))
      earliest = member;
    locations.push_back(member.getLoc());
    types.push_back(member.getType());
  }
  OpBuilder builder(earliest);
  auto fused =
      FusionGroupOp::create(builder, builder.getFusedLoc(locations), types);
  Block *body = builder.createBlock(&fused.getBody());
  SmallVector<Value> results;
  for (LinearOp member : members) {
    member->moveBefore(body, body->end());
    results.push_back(member.getResult());
  }
  auto yield = YieldOp::create(builder, fused.getLoc(), results);
  for (auto [index, member] : llvm::enumerate(members))
    member.getResult().replaceAllUsesExcept(fused.getResult(index), yield);
}

/// Writes `plan` into the module: quantizers, then fusion groups. Existing
/// groups are dissolved first since the plan decides fusion.
void applyPlan(ModuleOp module, const ModelLayers &layers,
               const alloc::Plan &plan) {
  SmallVector<FusionGroupOp> existing;
  module.walk([&](FusionGroupOp group) { existing.push_back(group); });
  IRRewriter rewriter(module.getContext());
  for (FusionGroupOp group : existing) {
    rewriter.setInsertionPoint(group);
    group.inlineMembers(rewriter);
  }

  for (unsigned block = 0; block < plan.blocks.size(); ++block) {
    for (Projection projection : alloc::kAllProjections)
      layers.at(block, projection)
          .setQuantizerAttr(getQuantizerAttr(
              module.getContext(), plan.blocks[block].quantizer(projection)));
    for (FusionGroup group : plan.blocks[block].fusedGroups())
      formFusionGroup(layers, block, group);
  }
}

/// Reports the plan's quality on the module.
void remarkPlan(ModuleOp module, const alloc::Plan &plan) {
  unsigned fused = 0;
  for (const alloc::BlockPlan &block : plan.blocks)
    fused += block.fusedGroups().size();
  InFlightDiagnostic remark =
      mlir::emitRemark(module.getLoc()) << llvm::formatv(
          "allocated {0} layers in {1} block{9} ({2} by {3}): objective "
          "{4:e4}, bound {5:e4}, avg bits {6:f4} ({7} memory model), {8} "
          "fused groups",
          plan.blocks.size() * kNumProjections, plan.blocks.size(),
          alloc::stringifySolveStatus(plan.status), plan.solver, plan.objective,
          plan.bound, plan.memory.avgBits(plan.memoryModel),
          alloc::stringifyMemoryModel(plan.memoryModel), fused,
          plan.blocks.size() == 1 ? "" : "s");
  if (std::optional<double> tokens = plan.tokensPerSecond())
    remark << llvm::formatv(", predicted {0:f1} tokens/s", *tokens);
}

struct AllocateBitsPass final
    : qpal::impl::AllocateBitsPassBase<AllocateBitsPass> {
  using AllocateBitsPassBase::AllocateBitsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto [name, value] :
         {std::pair<StringRef, double>{"budget-bits", budgetBits},
          {"target-tokens-per-second", targetTokensPerSecond}}) {
      if (std::isfinite(value) && value >= 0)
        continue;
      emitModuleError(module) << llvm::formatv(
          "qpal-allocate-bits expects a finite, non-negative '{0}' (0: no "
          "budget), got {1}",
          name, formatNumber(value));
      return signalPassFailure();
    }
    alloc::MsqRequest request;
    if (budgetBits > 0)
      request.budgetBits = budgetBits;
    if (targetTokensPerSecond > 0)
      request.tokensPerSecond = targetTokensPerSecond;
    request.latencyTable = latencyTable;
    request.roofline = roofline;
    request.palette = palette;
    request.memoryModel = memoryModel;
    request.distortion = distortion;
    request.layerErrors = layerErrors;
    request.fusion = fusion;

    FailureOr<ModuleAllocation> allocation =
        solveModuleAllocation(module, std::move(request));
    if (failed(allocation) ||
        failed(applyModuleAllocation(module, allocation->plan)))
      return signalPassFailure();
    remarkPlan(module, allocation->plan);
  }
};

} // namespace

FailureOr<ModuleAllocation>
qpal::solveModuleAllocation(ModuleOp module, alloc::MsqRequest request,
                            const alloc::SolveOptions &solveOptions) {
  FailureOr<ModelLayers> layers = collectLayers(module);
  if (failed(layers))
    return failure();
  FailureOr<alloc::MsqProblem> problem =
      buildProblem(module, *layers, std::move(request));
  if (failed(problem))
    return failure();
  llvm::Expected<alloc::Plan> plan = alloc::solveMsq(*problem, solveOptions);
  if (!plan)
    return emitLibraryError(module, plan.takeError());
  return ModuleAllocation{std::move(*problem), std::move(*plan)};
}

LogicalResult qpal::applyModuleAllocation(ModuleOp module,
                                          const alloc::Plan &plan) {
  // Applying a plan needs each layer's place, not its sensitivity.
  FailureOr<ModelLayers> layers =
      collectLayers(module, /*needSensitivity=*/false);
  if (failed(layers))
    return failure();
  applyPlan(module, *layers, plan);
  return success();
}

FailureOr<alloc::Plan> qpal::readModuleAllocation(ModuleOp module) {
  FailureOr<ModelLayers> layers =
      collectLayers(module, /*needSensitivity=*/false);
  if (failed(layers))
    return failure();
  alloc::Plan plan;
  plan.model = layers->model;
  plan.blocks.resize(layers->linears.size());
  for (unsigned block = 0; block < plan.blocks.size(); ++block) {
    alloc::BlockPlan &blockPlan = plan.blocks[block];
    for (Projection projection : alloc::kAllProjections) {
      LinearOp linear = layers->at(block, projection);
      QuantizerAttrInterface quantizer = linear.getQuantizerAttr();
      blockPlan.quantizers[static_cast<unsigned>(projection)] =
          quantizer ? quantizer.getSpec() : QuantizerSpec::f16();
      // A group is named once, by its first member.
      auto group = dyn_cast<FusionGroupOp>(linear->getParentOp());
      if (!group || *group.getMembers().begin() != linear)
        continue;
      std::array<bool, kNumProjections> members{};
      for (LinearOp member : group.getMembers())
        members[static_cast<unsigned>(*member.getRole())] = true;
      auto named = llvm::find_if(alloc::kFusedGroups, [&](FusionGroup fused) {
        std::array<bool, kNumProjections> wanted{};
        for (Projection member : alloc::fusionGroupMembers(fused))
          wanted[static_cast<unsigned>(member)] = true;
        return wanted == members;
      });
      if (named == alloc::kFusedGroups.end())
        return group.emitOpError()
               << "fuses layers of block " << block
               << " that no planner fusion group (qk, kv, qv, qkv, ug) names";
      blockPlan.groups.push_back(*named);
    }
  }
  if (llvm::Error err = alloc::completePlan(plan))
    return emitLibraryError(module, std::move(err));
  return plan;
}
