//===- OutlineParallelLoops.cpp - scf.parallel bodies into functions
//-------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pass qpal-outline-parallel-loops: each outermost one-dimensional
// scf.parallel becomes a call of a private function that runs a range of its
// iterations. The host shared object routes the call through its thread
// pool (routeParallelKernelCalls), so the work of a step that is not a
// quantized product (attention, for one) runs on every thread too.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace qpal {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

/// Outlines `loop` (one dimension, no results) into a function of `module`
/// named after `parent`, and replaces it by the call.
LogicalResult outline(scf::ParallelOp loop, func::FuncOp parent,
                      SymbolTable &symbols) {
  if (loop.getNumLoops() != 1 || loop.getNumResults() != 0)
    return loop.emitError()
           << "qpal-outline-parallel-loops expects a one-dimensional "
              "scf.parallel without results, got "
           << loop.getNumLoops() << " dimensions and " << loop.getNumResults()
           << " results";
  Location loc = loop.getLoc();
  Value lowerBound = loop.getLowerBound()[0];
  Value upperBound = loop.getUpperBound()[0];
  Value step = loop.getStep()[0];

  // What the body reads from above: constants are cloned, the rest are
  // arguments. The bounds' lower end and step are arguments too.
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(loop.getRegion(), used);
  used.insert(lowerBound);
  used.insert(step);
  SmallVector<Value> captures;
  SmallVector<Operation *> constants;
  for (Value value : used) {
    Operation *def = value.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>() &&
        def->getNumResults() == 1)
      constants.push_back(def);
    else
      captures.push_back(value);
  }

  OpBuilder builder(parent);
  SmallVector<Type> argumentTypes;
  for (Value value : captures)
    argumentTypes.push_back(value.getType());
  argumentTypes.append(2, builder.getIndexType());
  auto function =
      func::FuncOp::create(builder, loc, (parent.getSymName() + "_loop").str(),
                           builder.getFunctionType(argumentTypes, {}));
  function.setPrivate();
  symbols.insert(function); // placed before `parent`, renamed if need be

  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  IRMapping mapping;
  for (Operation *constant : constants)
    builder.clone(*constant, mapping);
  for (auto [value, argument] : llvm::zip(captures, entry->getArguments()))
    mapping.map(value, argument);
  Value lo = entry->getArgument(captures.size());
  Value hi = entry->getArgument(captures.size() + 1);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  auto body = scf::ForOp::create(builder, loc, lo, hi, one);
  builder.setInsertionPointToStart(body.getBody());
  // Iteration n is the loop's lb + n * step.
  Value iteration = arith::AddIOp::create(
      builder, loc, mapping.lookup(lowerBound),
      arith::MulIOp::create(builder, loc, body.getInductionVar(),
                            mapping.lookup(step)));
  mapping.map(loop.getInductionVars()[0], iteration);
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  builder.setInsertionPointToEnd(entry);
  func::ReturnOp::create(builder, loc);

  // The call runs iterations [0, max(0, ceil((ub - lb) / step))).
  builder.setInsertionPoint(loop);
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value count = arith::MaxSIOp::create(
      builder, loc,
      arith::CeilDivSIOp::create(
          builder, loc,
          arith::SubIOp::create(builder, loc, upperBound, lowerBound), step),
      zero);
  SmallVector<Value> operands(captures);
  operands.push_back(zero);
  operands.push_back(count);
  auto call = func::CallOp::create(builder, loc, function, operands);
  call->setAttr(QPalDialect::kParallelLoopAttrName, builder.getUnitAttr());
  loop.erase();
  return success();
}

struct OutlineParallelLoopsPass
    : qpal::impl::OutlineParallelLoopsPassBase<OutlineParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<std::pair<scf::ParallelOp, func::FuncOp>> loops;
    for (auto function : module.getOps<func::FuncOp>())
      function.walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
        loops.push_back({loop, function});
        return WalkResult::skip();
      });
    for (auto [loop, function] : loops)
      if (failed(outline(loop, function, symbols)))
        return signalPassFailure();
  }
};

} // namespace
