//===- QuantizeWeights.cpp - Weights to packed weights --------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Quantizes the weight of every quantized linear layer (and of every fusion
// group, its members' rows stacked) with lib/Quant, and replaces the layer
// by a qpal.quantized_linear of the packed weight.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/FakeQuant.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Passes/Actions.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Quant/LayerCache.h"
#include "qpal/Quant/Ldlq.h"
#include "qpal/Quant/Quantize.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

namespace qpal {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

MLIR_DEFINE_EXPLICIT_TYPE_ID(qpal::QuantizeLayerAction)

namespace {

/// The layers one packed weight serves: a lone linear, or a fusion group's
/// members in order.
struct PackJob {
  Operation *op; // the linear or the fusion group it replaces
  SmallVector<LinearOp, 4> members;
  QuantizerAttrInterface quantizer;
};

/// Returns the rows x cols weight of `linear`, read from `model`.
FailureOr<std::vector<float>> readWeight(LinearOp linear,
                                         const model::ModelFile &model,
                                         SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<WeightOp>(
      linear, linear.getWeightAttr().getAttr());
  if (!weight)
    return linear.emitOpError() << "'" << linear.getWeightAttr()
                                << "' does not reference a 'qpal.weight'";
  StringRef name =
      weight.getSource() ? *weight.getSource() : weight.getSymName();
  llvm::Expected<std::vector<float>> values = model.read(name);
  if (!values)
    return linear.emitOpError()
           << "cannot read weight '" << name << "' from '" << model.getPath()
           << "': " << llvm::toString(values.takeError());
  int64_t expected = weight.getTensorType().getNumElements();
  if (static_cast<int64_t>(values->size()) != expected)
    return linear.emitOpError()
           << "weight '" << name << "' in '" << model.getPath() << "' has "
           << values->size() << " values, the IR declares "
           << weight.getTensorType();
  return std::move(*values);
}

/// The symbol of a packed weight: `blk<block>.<roles>` when every member
/// knows its place in the model, else the first weight's name + `.packed`.
std::string packedWeightName(MutableArrayRef<LinearOp> members) {
  std::optional<uint64_t> block = members.front().getBlock();
  bool placed = llvm::all_of(members, [&](LinearOp member) {
    return member.getBlock() == block && member.getRole().has_value();
  });
  if (!block || !placed)
    return (members.front().getWeight() + ".packed").str();
  std::string name = llvm::formatv("blk{0}.", *block).str();
  llvm::interleave(
      members,
      [&](LinearOp member) { name += stringifyLinearRole(*member.getRole()); },
      [&] { name += "_"; });
  return name;
}

/// A `dense_resource` attribute of `type` holding a copy of `values`.
template <typename T>
ElementsAttr makeResource(RankedTensorType type, StringRef name,
                          ArrayRef<T> values) {
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
}

struct QuantizeWeightsPass final
    : qpal::impl::QuantizeWeightsPassBase<QuantizeWeightsPass> {
  using QuantizeWeightsPassBase::QuantizeWeightsPassBase;

  void runOnOperation() override;

  /// Quantizes `job`'s weight and replaces its layers.
  LogicalResult pack(PackJob &job, const model::ModelFile &model,
                     SymbolTableCollection &symbolTable);

  /// The second moment of layer `layerKey`'s input from the `hessians`
  /// file (read once), or a diagnostic at `op`.
  FailureOr<ArrayRef<double>> getHessian(Operation *op, StringRef layerKey,
                                         int64_t cols);
  std::optional<model::HessianSet> hessianSet;

  /// The packed weights made so far, by (symbol table, dense weights,
  /// quantizer, seed): layers that read the same weights the same way share
  /// one packed weight instead of quantizing it again.
  llvm::StringMap<PackedWeightOp> packedWeights;

  /// The layers of earlier compilations (`cache`), if any.
  std::optional<LayerCache> layerCache;
};

FailureOr<ArrayRef<double>> QuantizeWeightsPass::getHessian(Operation *op,
                                                            StringRef layerKey,
                                                            int64_t cols) {
  if (hessians.empty())
    return op->emitOpError()
           << "rounds against its input's Hessian (rounding = hess): give "
              "the pass hessians=FILE (`qpal compile --hessians`, from `qpal "
              "calibrate`)";
  if (layerKey.empty())
    return op->emitOpError()
           << "rounds against its input's Hessian but has no block and role "
              "to find it by";
  if (!hessianSet) {
    llvm::Expected<model::HessianSet> set = model::readHessianFile(hessians);
    if (!set)
      return op->emitOpError() << llvm::toString(set.takeError());
    hessianSet = std::move(*set);
  }
  llvm::Expected<ArrayRef<double>> hessian =
      hessianSet->secondMomentFor(layerKey, cols);
  if (!hessian)
    return op->emitOpError() << llvm::toString(hessian.takeError());
  return *hessian;
}

LogicalResult QuantizeWeightsPass::pack(PackJob &job,
                                        const model::ModelFile &model,
                                        SymbolTableCollection &symbolTable) {
  // The shape of the members' rows, stacked.
  int64_t rows = 0, cols = 0;
  for (LinearOp member : job.members) {
    FailureOr<std::pair<int64_t, int64_t>> shape =
        member.getWeightShape(symbolTable);
    if (failed(shape))
      return failure();
    rows += shape->first;
    cols = shape->second;
  }
  Operation *op = job.op;
  auto packedType =
      PackedWeightType::getChecked([&] { return op->emitOpError(); },
                                   &getContext(), rows, cols, job.quantizer);
  if (!packedType)
    return failure();

  // Layers that know their place get the sign vector fake quantization
  // gives them (shared by the members of a rotation domain).
  std::string layerKey = job.members.front().getLayerKey();
  QuantizeOptions options;
  options.threads = threads;
  options.seed =
      layerKey.empty() ? seed : model::getBlockLinearSeed(seed, layerKey);
  Operation *function = op->getParentOfType<FunctionOpInterface>();
  SmallVector<StringRef, 4> sources;
  std::string cacheKey;
  llvm::raw_string_ostream key(cacheKey);
  key << function->getParentOp() << "|" << job.quantizer << "|" << options.seed;
  for (LinearOp member : job.members) {
    auto weight = symbolTable.lookupNearestSymbolFrom<WeightOp>(
        member, member.getWeightAttr().getAttr());
    sources.push_back(weight.getSource() ? *weight.getSource()
                                         : weight.getSymName());
    key << "|" << weight.getOperation();
  }
  PackedWeightOp &packed = packedWeights[cacheKey];
  if (!packed) {
    // Only weights not packed yet are read from the model file.
    std::vector<float> stacked;
    stacked.reserve(rows * cols);
    for (LinearOp member : job.members) {
      FailureOr<std::vector<float>> values =
          readWeight(member, model, symbolTable);
      if (failed(values))
        return failure();
      stacked.insert(stacked.end(), values->begin(), values->end());
    }
    QuantizerSpec spec = job.quantizer.getSpec();
    if (spec.hessian) {
      FailureOr<ArrayRef<double>> hessian = getHessian(op, layerKey, cols);
      if (failed(hessian))
        return failure();
      options.hessian = *hessian;
    }
    // A layer quantized before (any compilation that shared the cache) is
    // read back; one encoded here is stored for the next.
    std::string layerKeyHash =
        layerCache ? LayerCache::key(spec, stacked, rows, cols, options.seed,
                                     options.hessian)
                   : std::string();
    std::optional<QuantizedLayer> cached =
        layerCache ? layerCache->load(layerKeyHash, spec, rows, cols)
                   : std::nullopt;
    llvm::Expected<QuantizedLayer> layer =
        cached ? llvm::Expected<QuantizedLayer>(std::move(*cached))
               : quantizeLayerWithHessian(spec, stacked.data(), rows, cols,
                                          options);
    if (!layer)
      return op->emitOpError()
             << "cannot quantize with " << job.quantizer.getReferenceName()
             << ": " << llvm::toString(layer.takeError());
    if (cached) {
      ++numFromCache;
      op->emitRemark() << "read from the layer cache";
    } else {
      ++numEncoded;
      if (layerCache)
        if (llvm::Error err = layerCache->store(layerKeyHash, *layer))
          op->emitWarning()
              << "the layer cache: " << llvm::toString(std::move(err));
    }

    // The packed weight, declared before the function that uses it.
    OpBuilder builder(&getContext());
    builder.setInsertionPoint(function);
    std::string name = packedWeightName(job.members);
    Type i8 = builder.getI8Type(), f32 = builder.getF32Type();
    std::vector<float> scales(rows);
    for (int64_t row = 0; row < rows; ++row)
      scales[row] = layer->scale(row);
    ArrayRef<int8_t> codes(
        reinterpret_cast<const int8_t *>(layer->codes.data()),
        layer->codes.size());
    packed = PackedWeightOp::create(
        builder, op->getLoc(), name, packedType,
        makeResource(RankedTensorType::get({packedType.getCodeBytes()}, i8),
                     name + ".codes", codes),
        makeResource(RankedTensorType::get({rows}, f32), name + ".scales",
                     ArrayRef<float>(scales)),
        makeResource(RankedTensorType::get({cols}, f32), name + ".signs",
                     ArrayRef<float>(layer->signs)),
        builder.getStrArrayAttr(sources),
        builder.getIntegerAttr(builder.getIntegerType(64, /*isSigned=*/false),
                               llvm::APInt(64, options.seed)));
    // Renamed if the name is taken in the symbol table it joins.
    symbolTable.getSymbolTable(function->getParentOp()).insert(packed);
  }

  // The layers: one quantized linear with a result per member.
  OpBuilder builder(op);
  auto weight = GetWeightOp::create(builder, op->getLoc(), packedType,
                                    packed.getSymName());
  SmallVector<Type, 4> resultTypes;
  SmallVector<Attribute, 4> roles;
  for (LinearOp member : job.members) {
    resultTypes.push_back(member.getType());
    if (member.getRoleAttr())
      roles.push_back(member.getRoleAttr());
  }
  auto linear = QuantizedLinearOp::create(
      builder, op->getLoc(), resultTypes, job.members.front().getInput(),
      weight, job.members.front().getBlockAttr(),
      roles.size() == job.members.size() ? builder.getArrayAttr(roles)
                                         : ArrayAttr());
  op->replaceAllUsesWith(linear.getResults());
  op->erase();
  return success();
}

void QuantizeWeightsPass::runOnOperation() {
  ModuleOp module = getOperation();
  packedWeights.clear();
  hessianSet.reset();
  layerCache.reset();
  if (!cache.empty())
    layerCache.emplace(cache);

  // The layers to pack: fusion groups, then the lone linears.
  SmallVector<PackJob> jobs;
  module.walk([&](Operation *op) {
    PackJob job{op, {}, {}};
    if (auto group = dyn_cast<FusionGroupOp>(op))
      job.members = group.getMembers();
    else if (auto linear = dyn_cast<LinearOp>(op);
             linear && !isa<FusionGroupOp>(op->getParentOp()))
      job.members.push_back(linear);
    if (job.members.empty())
      return;
    job.quantizer = job.members.front().getQuantizerAttr();
    if (job.quantizer && !isa<F16Attr>(job.quantizer))
      jobs.push_back(job);
  });
  if (jobs.empty())
    return;
  FailureOr<std::unique_ptr<model::ModelFile>> file =
      openPassModelFile(module, model, getArgument());
  if (failed(file))
    return signalPassFailure();

  SymbolTableCollection symbolTable;
  // Every layer is checked before any is rewritten, so that a bad one leaves
  // the module as it was.
  llvm::SetVector<Operation *> readWeights;
  for (PackJob &job : jobs)
    for (LinearOp member : job.members) {
      auto input = cast<RankedTensorType>(member.getInput().getType());
      if (input.getRank() != 2 || !input.getElementType().isF32() ||
          input.isDynamicDim(1)) {
        member.emitOpError()
            << "cannot be quantized: its kernels take tokens x features f32 "
               "activations with a static feature dimension, got "
            << input;
        return signalPassFailure();
      }
      if (!member->getParentOfType<FunctionOpInterface>()) {
        member.emitOpError() << "cannot be quantized outside a function";
        return signalPassFailure();
      }
      if (auto weight = symbolTable.lookupNearestSymbolFrom<WeightOp>(
              member, member.getWeightAttr().getAttr()))
        readWeights.insert(weight);
    }
  // One action per layer: a driver follows the quantization through an
  // action handler (qpal compile's progress line).
  for (size_t index = 0; index < jobs.size(); ++index) {
    auto &job = jobs[index];
    std::string name;
    for (LinearOp member : job.members) {
      auto weight = symbolTable.lookupNearestSymbolFrom<WeightOp>(
          member, member.getWeightAttr().getAttr());
      name += (name.empty() ? "" : "+") + (weight && weight.getSource()
                                               ? weight.getSource()->str()
                                               : member.getLayerKey());
    }
    LogicalResult packed = failure();
    getContext().executeAction<QuantizeLayerAction>(
        [&] { packed = pack(job, **file, symbolTable); }, {IRUnit(job.op)},
        static_cast<int64_t>(index), static_cast<int64_t>(jobs.size()), name,
        job.quantizer.getReferenceName());
    if (failed(packed))
      return signalPassFailure();
  }

  // Dense weights whose every reader was packed are no longer part of the
  // program.
  for (Operation *weight : readWeights)
    if (SymbolTable::symbolKnownUseEmpty(weight, weight->getParentOp()))
      weight->erase();
}

} // namespace

FailureOr<std::unique_ptr<model::ModelFile>>
qpal::openPassModelFile(ModuleOp module, StringRef option, StringRef passName) {
  std::string path = option.str();
  if (path.empty())
    if (auto file =
            module->getAttrOfType<StringAttr>(QPalDialect::kModelFileAttrName))
      path = file.getValue().str();
  if (path.empty())
    return module.emitError()
           << passName << " needs the model file: set 'model' or the module's '"
           << QPalDialect::kModelFileAttrName << "'";
  llvm::Expected<std::unique_ptr<model::ModelFile>> file =
      model::openModel(path);
  if (!file)
    return module.emitError() << llvm::toString(file.takeError());
  return std::move(*file);
}
