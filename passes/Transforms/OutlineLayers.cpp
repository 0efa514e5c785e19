//===- OutlineLayers.cpp - A step's residual blocks as functions ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pass qpal-outline-layers: each part of a step entry point between two
// points where only the residual stream crosses becomes a private function.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

#include <array>

namespace qpal {
#define GEN_PASS_DEF_OUTLINELAYERSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

/// A step entry point's arguments (qpal-outline-steps): the tokens, the
/// position, the KV cache and the logits.
enum StepArgument : unsigned { kTokens, kPosition, kCache, kLogits, kCount };

/// The body of one step entry point, in order, with what the cuts need.
class StepBody {
public:
  explicit StepBody(func::FuncOp step);

  /// Whether `op` only recomputes what the position determines: free of
  /// memory effects, outside the qpal dialect, and reading only the
  /// position argument and other such values. Parts recompute these.
  bool isRecomputable(Operation *op) const { return recomputable.count(op); }

  /// The indices i after which exactly one value crosses (ops[i]'s single
  /// result, a ranked tensor), recomputable values aside.
  SmallVector<size_t> findCuts() const;

  /// Whether the ops (begin, end] read nothing from outside but the value
  /// `input`, recomputable values and the position and cache arguments.
  bool isSelfContained(size_t begin, size_t end, Value input) const;

  func::FuncOp step;
  Block *block;
  SmallVector<Operation *> ops;

private:
  DenseMap<Operation *, size_t> index;
  llvm::DenseSet<Operation *> recomputable;
};

} // namespace

StepBody::StepBody(func::FuncOp step)
    : step(step), block(&step.getBody().front()) {
  Value position = block->getArgument(kPosition);
  for (Operation &op : block->without_terminator()) {
    index[&op] = ops.size();
    ops.push_back(&op);
    bool reads = llvm::all_of(op.getOperands(), [&](Value operand) {
      if (operand == position)
        return true;
      Operation *def = operand.getDefiningOp();
      return def && recomputable.count(def);
    });
    bool nested = true;
    op.walk([&](Operation *inner) {
      if (inner == &op)
        return;
      for (Value operand : inner->getOperands()) {
        Operation *owner = operand.getParentRegion()->getParentOp();
        if (owner == &op || op.isProperAncestor(owner) || operand == position)
          continue;
        if (!recomputable.count(operand.getDefiningOp()))
          nested = false;
      }
    });
    if (reads && nested && isMemoryEffectFree(&op) &&
        !isa<QPalDialect>(op.getDialect()))
      recomputable.insert(&op);
  }
}

SmallVector<size_t> StepBody::findCuts() const {
  // live[i]: values defined at or before ops[i] and read after it.
  SmallVector<int> live(ops.size() + 1, 0);
  for (size_t i = 0; i < ops.size(); ++i) {
    if (recomputable.count(ops[i]))
      continue;
    for (Value result : ops[i]->getResults()) {
      size_t last = i;
      for (Operation *user : result.getUsers()) {
        Operation *top = block->findAncestorOpInBlock(*user);
        auto found = top ? index.find(top) : index.end();
        // The terminator reads it: live to the end.
        last =
            std::max(last, found == index.end() ? ops.size() : found->second);
      }
      for (size_t j = i; j < last; ++j)
        ++live[j];
    }
  }
  SmallVector<size_t> cuts;
  for (size_t i = 0; i + 1 < ops.size(); ++i) {
    Operation *op = ops[i];
    if (live[i] != 1 || recomputable.count(op) || op->getNumResults() != 1)
      continue;
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (type && type.hasStaticShape() && !op->getResult(0).use_empty())
      cuts.push_back(i);
  }
  return cuts;
}

bool StepBody::isSelfContained(size_t begin, size_t end, Value input) const {
  llvm::DenseSet<Operation *> inside;
  for (size_t i = begin + 1; i <= end; ++i)
    inside.insert(ops[i]);
  bool ok = true;
  for (size_t i = begin + 1; i <= end && ok; ++i)
    ops[i]->walk([&](Operation *inner) {
      for (Value operand : inner->getOperands()) {
        if (operand == input)
          continue;
        if (auto argument = dyn_cast<BlockArgument>(operand)) {
          if (argument.getOwner() == block &&
              argument.getArgNumber() != kPosition &&
              argument.getArgNumber() != kCache)
            ok = false;
          continue;
        }
        Operation *top = block->findAncestorOpInBlock(*operand.getDefiningOp());
        if (top && !inside.count(top) && !recomputable.count(top))
          ok = false;
      }
    });
  return ok;
}

/// Outlines the ops (begin, end] of `body` into a private function named
/// `name`: (input, position, cache, output). Returns it, placed after the
/// step.
static func::FuncOp outlinePart(StepBody &body, size_t begin, size_t end,
                                StringRef name, OpBuilder &moduleBuilder) {
  func::FuncOp step = body.step;
  Location loc = body.ops[end]->getLoc();
  Value input = body.ops[begin]->getResult(0);
  Value output = body.ops[end]->getResult(0);
  auto inputType = cast<RankedTensorType>(input.getType());
  auto outputType = cast<RankedTensorType>(output.getType());
  auto inputBuffer =
      MemRefType::get(inputType.getShape(), inputType.getElementType());
  auto outputBuffer =
      MemRefType::get(outputType.getShape(), outputType.getElementType());
  Block &stepBlock = step.getBody().front();
  Type cacheType = stepBlock.getArgument(kCache).getType();

  auto part = func::FuncOp::create(
      moduleBuilder, loc, name,
      moduleBuilder.getFunctionType(
          {inputBuffer, moduleBuilder.getIndexType(), cacheType, outputBuffer},
          {}));
  part.setPrivate();
  part->setAttr(QPalDialect::kStepPartAttrName, moduleBuilder.getUnitAttr());
  part->setAttr("passthrough", moduleBuilder.getStrArrayAttr({"noinline"}));
  part.setArgAttr(kCache, QPalDialect::kKvCacheAttrName,
                  moduleBuilder.getUnitAttr());
  Block *entry = part.addEntryBlock();
  OpBuilder builder = OpBuilder::atBlockBegin(entry);

  IRMapping mapping;
  mapping.map(stepBlock.getArgument(kPosition), entry->getArgument(kPosition));
  mapping.map(stepBlock.getArgument(kCache), entry->getArgument(kCache));
  mapping.map(input, bufferization::ToTensorOp::create(
                         builder, loc, inputType, entry->getArgument(0),
                         /*restrict=*/true, /*writable=*/false));
  // The recomputable values the part reads, in their order in the step.
  llvm::SetVector<Operation *> needed;
  SmallVector<Operation *> worklist;
  for (size_t i = begin + 1; i <= end; ++i)
    body.ops[i]->walk([&](Operation *inner) {
      for (Value operand : inner->getOperands())
        if (Operation *def = operand.getDefiningOp())
          if (def->getBlock() == &stepBlock && body.isRecomputable(def))
            worklist.push_back(def);
    });
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!needed.insert(op))
      continue;
    op->walk([&](Operation *inner) {
      for (Value operand : inner->getOperands())
        if (Operation *def = operand.getDefiningOp())
          if (def->getBlock() == &stepBlock && body.isRecomputable(def))
            worklist.push_back(def);
    });
  }
  for (Operation *op : body.ops)
    if (needed.count(op))
      builder.clone(*op, mapping);
  for (size_t i = begin + 1; i <= end; ++i)
    if (!body.isRecomputable(body.ops[i]))
      builder.clone(*body.ops[i], mapping);
  bufferization::MaterializeInDestinationOp::create(
      builder, loc, TypeRange{}, mapping.lookup(output), entry->getArgument(3),
      /*restrict=*/true, /*writable=*/true);
  func::ReturnOp::create(builder, loc);
  return part;
}

namespace {

struct OutlineLayersPass final
    : qpal::impl::OutlineLayersPassBase<OutlineLayersPass> {
  void runOnOperation() override;
  LogicalResult outlineStep(func::FuncOp step, SymbolTable &symbols);
};

} // namespace

LogicalResult OutlineLayersPass::outlineStep(func::FuncOp step,
                                             SymbolTable &symbols) {
  FunctionType type = step.getFunctionType();
  if (!step.getBody().hasOneBlock() || type.getNumInputs() != kCount ||
      type.getNumResults() != 0 || !type.getInput(kPosition).isIndex() ||
      !step.getArgAttr(kCache, QPalDialect::kKvCacheAttrName))
    return step.emitOpError()
           << "is not a step entry point of qpal-outline-steps: expects "
              "(tokens, position: index, cache {qpal.kv_cache}, logits) -> ()";
  StepBody body(step);
  SmallVector<size_t> cuts = body.findCuts();

  // The parts between consecutive cuts that map the residual stream to
  // itself (not the embedding, not the LM head) and read nothing else from
  // the step.
  SmallVector<std::pair<size_t, size_t>> parts;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    Value input = body.ops[cuts[k]]->getResult(0);
    Value output = body.ops[cuts[k + 1]]->getResult(0);
    if (input.getType() == output.getType() &&
        body.isSelfContained(cuts[k], cuts[k + 1], input))
      parts.push_back({cuts[k], cuts[k + 1]});
  }
  if (parts.empty())
    return success();

  ModuleOp module = getOperation();
  OpBuilder moduleBuilder(module.getContext());
  moduleBuilder.setInsertionPointAfter(step);
  Location loc = step.getLoc();
  OpBuilder builder(body.ops[parts.front().first + 1]);
  // The buffers of the residual stream: the first part's input, then two in
  // turn (a part never reads and writes one buffer).
  auto bufferOf = [&](Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    return memref::AllocOp::create(
        builder, loc, MemRefType::get(type.getShape(), type.getElementType()),
        builder.getI64IntegerAttr(64));
  };
  Block &stepBlock = step.getBody().front();
  Value position = stepBlock.getArgument(kPosition);
  Value cache = stepBlock.getArgument(kCache);
  SmallVector<Operation *> erase;
  Value current;        // the buffer the previous part wrote
  Value previousOutput; // and the value it holds
  std::array<Value, 2> turns;
  unsigned partNumber = 0;
  for (auto [k, range] : llvm::enumerate(parts)) {
    auto [begin, end] = range;
    Value input = body.ops[begin]->getResult(0);
    builder.setInsertionPoint(body.ops[begin + 1]);
    if (input != previousOutput) {
      // The stream (re)starts here: its own buffer, then two in turn.
      current = bufferOf(input);
      bufferization::MaterializeInDestinationOp::create(
          builder, loc, TypeRange{}, input, current, /*restrict=*/true,
          /*writable=*/true);
      turns = {bufferOf(input), Value()};
    } else if (!turns[1]) {
      turns[1] = bufferOf(input);
    }
    Value target = turns[0] == current ? turns[1] : turns[0];
    std::string name;
    do {
      name = (step.getSymName() + "_part" + Twine(++partNumber)).str();
    } while (symbols.lookup(name));
    func::FuncOp part = outlinePart(body, begin, end, name, moduleBuilder);
    symbols.insert(part);
    moduleBuilder.setInsertionPointAfter(part);
    func::CallOp::create(builder, loc, part,
                         ValueRange{current, position, cache, target});
    for (size_t i = begin + 1; i <= end; ++i)
      if (!body.isRecomputable(body.ops[i]))
        erase.push_back(body.ops[i]);
    Value output = body.ops[end]->getResult(0);
    current = target;
    previousOutput = output;
    // What follows reads the output from its buffer, unless the next part
    // takes the buffer as it is.
    if (k + 1 == parts.size() || parts[k + 1].first != end) {
      builder.setInsertionPointAfter(body.ops[end]);
      Value tensor = bufferization::ToTensorOp::create(
          builder, loc, output.getType(), target, /*restrict=*/true,
          /*writable=*/false);
      output.replaceAllUsesExcept(tensor, tensor.getDefiningOp());
    }
  }
  for (Operation *op : llvm::reverse(erase)) {
    op->dropAllUses();
    op->erase();
  }
  return success();
}

void OutlineLayersPass::runOnOperation() {
  ModuleOp module = getOperation();
  SymbolTable symbols(module);
  SmallVector<func::FuncOp> steps;
  for (auto function : module.getOps<func::FuncOp>())
    if (function->hasAttr("llvm.emit_c_interface") && !function.isExternal() &&
        !function->hasAttr(QPalDialect::kStepPartAttrName))
      steps.push_back(function);
  for (func::FuncOp step : steps)
    if (failed(outlineStep(step, symbols)))
      return signalPassFailure();
}
