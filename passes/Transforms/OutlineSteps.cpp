//===- OutlineSteps.cpp - Step entry points over a KV cache ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pass qpal-outline-steps: the imported forward function becomes one
// entry point per batch size, with the runtime's ABI (qpalpkg.h).
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"

namespace qpal {
#define GEN_PASS_DEF_OUTLINESTEPSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

static constexpr StringLiteral kKvCacheAttr = QPalDialect::kKvCacheAttrName;
static constexpr StringLiteral kLayerAttr = QPalDialect::kLayerAttrName;

namespace {

/// Fixes the leading (token) dimension of every dynamic tensor in `region`
/// to `batch`.
void fixTokenDimension(Region &region, int64_t batch) {
  auto fix = [&](Value value) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || type.getRank() == 0 || !type.isDynamicDim(0))
      return;
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = batch;
    value.setType(type.clone(shape));
  };
  region.walk([&](Operation *op) {
    for (Region &nested : op->getRegions())
      for (Block &block : nested)
        for (BlockArgument argument : block.getArguments())
          fix(argument);
    for (Value result : op->getResults())
      fix(result);
  });
}

struct OutlineStepsPass final
    : qpal::impl::OutlineStepsPassBase<OutlineStepsPass> {
  using OutlineStepsPassBase::OutlineStepsPassBase;

  void runOnOperation() override;

  /// Checks the forward function's signature and attention ops; returns the
  /// KV-cache width (key/value heads x head width).
  FailureOr<int64_t> checkForward(func::FuncOp forward);
};

} // namespace

FailureOr<int64_t> OutlineStepsPass::checkForward(func::FuncOp forward) {
  FunctionType type = forward.getFunctionType();
  auto isTokenVector = [](Type t) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    return tensor && tensor.getRank() == 1 && tensor.isDynamicDim(0) &&
           tensor.getElementType().isInteger(32);
  };
  auto logits = type.getNumResults() == 1
                    ? dyn_cast<RankedTensorType>(type.getResult(0))
                    : RankedTensorType();
  if (type.getNumInputs() != 2 || !isTokenVector(type.getInput(0)) ||
      !isTokenVector(type.getInput(1)) || !logits || logits.getRank() != 2 ||
      !logits.isDynamicDim(0) || logits.isDynamicDim(1) ||
      !logits.getElementType().isF32())
    return forward.emitOpError()
           << "expects the signature (tokens: tensor<?xi32>, positions: "
              "tensor<?xi32>) -> tensor<?xVxf32> of an imported model, got "
           << type;
  if (!forward.getBody().hasOneBlock())
    return forward.emitOpError() << "expects a single-block body";
  int64_t width = -1;
  WalkResult walk = forward.walk([&](AttentionOp attention) {
    int64_t w = attention.getNumKvHeads() * attention.getHeadDim();
    if (width >= 0 && w != width) {
      attention.emitOpError()
          << "has " << w << " key/value features where an earlier attention "
          << "has " << width << ": one KV cache holds every layer";
      return WalkResult::interrupt();
    }
    width = w;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (width < 0)
    return forward.emitOpError() << "has no 'qpal.attention': nothing to cache";
  return width;
}

void OutlineStepsPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward) {
    module.emitError() << "qpal-outline-steps expects the imported model's "
                          "'@forward' function";
    return signalPassFailure();
  }
  FailureOr<int64_t> width = checkForward(forward);
  if (failed(width))
    return signalPassFailure();

  SmallVector<int64_t> sizes(batches.begin(), batches.end());
  if (sizes.empty())
    sizes = {1, 8};
  llvm::sort(sizes);
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  if (sizes.front() <= 0) {
    module.emitError() << "qpal-outline-steps expects positive batch sizes, "
                          "got "
                       << sizes.front();
    return signalPassFailure();
  }

  MLIRContext *context = &getContext();
  auto i32 = IntegerType::get(context, 32);
  auto f32 = Float32Type::get(context);
  int64_t vocab = cast<RankedTensorType>(forward.getFunctionType().getResult(0))
                      .getDimSize(1);
  OpBuilder builder(forward);
  SymbolTable symbols(module);
  for (int64_t batch : sizes) {
    std::string name = "qpal_step_b" + std::to_string(batch);
    if (symbols.lookup(name)) {
      module.emitError() << "qpal-outline-steps: the module already has a '@"
                         << name << "'";
      return signalPassFailure();
    }
    Location loc = forward.getLoc();
    auto tokensType = MemRefType::get({batch}, i32);
    auto cacheType = MemRefType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic, *width}, f32);
    auto logitsType = MemRefType::get({batch, vocab}, f32);
    auto step = func::FuncOp::create(
        builder, loc, name,
        builder.getFunctionType(
            {tokensType, builder.getIndexType(), cacheType, logitsType}, {}));
    step->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
    step.setArgAttr(2, kKvCacheAttr, builder.getUnitAttr());
    Block *body = step.addEntryBlock();
    OpBuilder inner = OpBuilder::atBlockBegin(body);

    // tokens, and positions = position + i.
    auto tokensTensorType = RankedTensorType::get({batch}, i32);
    Value tokens = bufferization::ToTensorOp::create(
        inner, loc, tokensTensorType, body->getArgument(0),
        /*restrict=*/true, /*writable=*/false);
    Value empty =
        tensor::EmptyOp::create(inner, loc, ArrayRef<int64_t>{batch}, i32);
    AffineMap identity = inner.getMultiDimIdentityMap(1);
    Value position = body->getArgument(1);
    Value positions =
        linalg::GenericOp::create(
            inner, loc, TypeRange{tokensTensorType}, ValueRange{},
            ValueRange{empty}, ArrayRef<AffineMap>{identity},
            ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
            [&](OpBuilder &b, Location l, ValueRange) {
              Value i = linalg::IndexOp::create(b, l, 0);
              Value p = arith::AddIOp::create(b, l, position, i);
              linalg::YieldOp::create(
                  b, l, ValueRange{arith::IndexCastOp::create(b, l, i32, p)});
            })
            .getResult(0);

    IRMapping mapping;
    Block &source = forward.getBody().front();
    mapping.map(source.getArgument(0), tokens);
    mapping.map(source.getArgument(1), positions);
    for (Operation &op : source.without_terminator())
      inner.clone(op, mapping);
    auto ret = cast<func::ReturnOp>(source.getTerminator());
    Value logits = mapping.lookup(ret.getOperand(0));
    fixTokenDimension(step.getBody(), batch);
    bufferization::MaterializeInDestinationOp::create(
        inner, loc, TypeRange{}, logits, body->getArgument(3),
        /*restrict=*/true, /*writable=*/true);
    func::ReturnOp::create(inner, loc);

    int64_t layer = 0;
    step.walk([&](AttentionOp attention) {
      attention->setAttr(kLayerAttr, builder.getI64IntegerAttr(layer++));
    });
    if (failed(mlir::verify(step))) {
      step.emitOpError() << "is not valid after fixing the batch to " << batch;
      return signalPassFailure();
    }
  }
  forward.erase();
}
