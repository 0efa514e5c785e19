//===- ExternalizeWeights.cpp - Constant globals into one weight arena ----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pass qpal-externalize-weights and externalizeWeights(), which the
// package writer calls: the weights leave the code for a byte arena that
// the runtime maps from the package, and the entry points read them through
// memref.view.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "qpal/Passes/Package.h"
#include "qpal/Support/OutputFile.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

#include <functional>

namespace qpal {
#define GEN_PASS_DEF_EXTERNALIZEWEIGHTSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

/// The bytes of a global's initial value, or nullopt when they are not at
/// hand (a splat, or an attribute kind this pass does not read).
static std::optional<std::vector<char>>
getGlobalBytes(memref::GlobalOp global) {
  Attribute initial = global.getInitialValueAttr();
  MemRefType type = global.getType();
  // memref.view makes identity-layout, default-space memrefs of int or
  // float elements; other globals stay where they are.
  if (!type.getElementType().isIntOrFloat() || !type.getLayout().isIdentity() ||
      type.getMemorySpace() || !type.hasStaticShape())
    return std::nullopt;
  int64_t elementBytes = (type.getElementTypeBitWidth() + 7) / 8;
  int64_t bytes = type.getNumElements() * elementBytes;
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(initial)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || static_cast<int64_t>(blob->getData().size()) != bytes)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    return std::vector<char>(data.begin(), data.end());
  }
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(initial)) {
    if (type.getElementTypeBitWidth() % 8 != 0)
      return std::nullopt;
    std::vector<char> result(bytes);
    if (dense.isSplat()) {
      ArrayRef<char> one = dense.getRawData();
      for (int64_t i = 0; i < type.getNumElements(); ++i)
        std::copy(one.begin(), one.end(), result.begin() + i * elementBytes);
      return result;
    }
    ArrayRef<char> data = dense.getRawData();
    if (static_cast<int64_t>(data.size()) != bytes)
      return std::nullopt;
    std::copy(data.begin(), data.end(), result.begin());
    return result;
  }
  return std::nullopt;
}

FailureOr<WeightArena> qpal::externalizeWeights(ModuleOp module) {
  WeightArena arena;
  SmallVector<func::FuncOp> entries;
  for (auto function : module.getOps<func::FuncOp>())
    if (function->hasAttr("llvm.emit_c_interface") && !function.isExternal())
      entries.push_back(function);
  if (entries.empty())
    return module.emitError()
           << "qpal-externalize-weights found no entry point (a function "
              "with llvm.emit_c_interface)";

  SymbolTable symbols(module);
  // The functions that take the arena: the entry points and the step parts
  // they call (qpal-outline-layers), each part where it is first called.
  SmallVector<func::FuncOp> takers;
  llvm::DenseSet<Operation *> seen;
  std::function<void(func::FuncOp)> visit = [&](func::FuncOp function) {
    if (!seen.insert(function).second)
      return;
    takers.push_back(function);
    function.walk([&](func::CallOp call) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (callee && !callee.isExternal() &&
          callee->hasAttr(QPalDialect::kStepPartAttrName))
        visit(callee);
    });
  };
  for (func::FuncOp entry : entries)
    visit(entry);

  // The globals to move, in order of first use, and their offsets: the
  // walk enters a part at its first call.
  llvm::MapVector<memref::GlobalOp, uint64_t> offsets;
  llvm::DenseSet<Operation *> walked;
  std::function<WalkResult(func::FuncOp)> collect =
      [&](func::FuncOp function) -> WalkResult {
    if (!walked.insert(function).second)
      return WalkResult::advance();
    return function.walk([&](Operation *op) {
      if (auto call = dyn_cast<func::CallOp>(op)) {
        auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
        if (callee && seen.count(callee))
          return collect(callee);
        return WalkResult::advance();
      }
      auto get = dyn_cast<memref::GetGlobalOp>(op);
      if (!get)
        return WalkResult::advance();
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      if (!global || !global.getConstant() || offsets.count(global))
        return WalkResult::advance();
      if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(
              global.getInitialValueAttr());
          resource && !resource.getRawHandle().getBlob()) {
        global.emitOpError() << "has no bytes: its resource blob '"
                             << resource.getRawHandle().getKey()
                             << "' is missing (elided when printed?)";
        return WalkResult::interrupt();
      }
      std::optional<std::vector<char>> bytes = getGlobalBytes(global);
      if (!bytes)
        return WalkResult::advance();
      uint64_t offset = (arena.bytes.size() + WeightArena::kAlignment - 1) /
                        WeightArena::kAlignment * WeightArena::kAlignment;
      arena.bytes.resize(offset, 0);
      arena.bytes.insert(arena.bytes.end(), bytes->begin(), bytes->end());
      offsets[global] = offset;
      arena.entries.push_back(
          {global.getSymName().str(), offset, bytes->size()});
      return WalkResult::advance();
    });
  };
  for (func::FuncOp entry : entries)
    if (collect(entry).wasInterrupted())
      return failure();
  // The arena's size is a multiple of the alignment.
  arena.bytes.resize((arena.bytes.size() + WeightArena::kAlignment - 1) /
                         WeightArena::kAlignment * WeightArena::kAlignment,
                     0);

  // Each taker takes the arena first and views its weights in it; the
  // parts get it from their callers.
  MLIRContext *context = module.getContext();
  auto arenaType =
      MemRefType::get({ShapedType::kDynamic}, IntegerType::get(context, 8));
  for (func::FuncOp taker : takers) {
    Block &body = taker.getBody().front();
    if (failed(taker.insertArgument(0, arenaType, {}, taker.getLoc())))
      return failure();
    Value arenaArg = body.getArgument(0);
    SmallVector<memref::GetGlobalOp> gets;
    taker.walk([&](memref::GetGlobalOp get) { gets.push_back(get); });
    for (memref::GetGlobalOp get : gets) {
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      auto found = offsets.find(global);
      if (found == offsets.end())
        continue;
      OpBuilder builder(get);
      Value offset =
          arith::ConstantIndexOp::create(builder, get.getLoc(), found->second);
      // The global has an identity layout (getGlobalBytes), as a view's
      // result must.
      Value view =
          memref::ViewOp::create(builder, get.getLoc(), global.getType(),
                                 arenaArg, offset, ValueRange{});
      get.replaceAllUsesWith(view);
      get.erase();
    }
  }
  for (func::FuncOp taker : takers)
    taker.walk([&](func::CallOp call) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (callee && seen.count(callee))
        call->insertOperands(0, taker.getBody().front().getArgument(0));
    });
  // Globals no one reads any more go.
  for (auto &[global, offset] : offsets)
    if (SymbolTable::symbolKnownUseEmpty(global, module))
      global.erase();
  return arena;
}

namespace {

struct ExternalizeWeightsPass final
    : qpal::impl::ExternalizeWeightsPassBase<ExternalizeWeightsPass> {
  using ExternalizeWeightsPassBase::ExternalizeWeightsPassBase;

  void runOnOperation() override {
    FailureOr<WeightArena> arena = externalizeWeights(getOperation());
    if (failed(arena))
      return signalPassFailure();
    if (arenaFile.empty())
      return;
    if (llvm::Error err =
            writeOutputFile(arenaFile, llvm::StringRef(arena->bytes.data(),
                                                       arena->bytes.size()))) {
      getOperation().emitError() << llvm::toString(std::move(err));
      return signalPassFailure();
    }
  }
};

} // namespace
