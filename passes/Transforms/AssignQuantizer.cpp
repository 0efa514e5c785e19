//===- AssignQuantizer.cpp - Uniform quantizer assignment -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace qpal {
#define GEN_PASS_DEF_ASSIGNQUANTIZERPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

/// Whether `quantizer` can pack `linear`'s weight; reports why not through
/// `emitError` when given.
LogicalResult fits(LinearOp linear, QuantizerAttrInterface quantizer,
                   SymbolTableCollection &symbolTable, bool report) {
  FailureOr<std::pair<int64_t, int64_t>> shape =
      linear.getWeightShape(symbolTable);
  if (failed(shape))
    return failure();
  if (!report) {
    auto message = quantizer.getSpec().checkShape(shape->first, shape->second);
    return failure(message.has_value());
  }
  return quantizer.verifyShape(shape->first, shape->second, [&] {
    return linear.emitOpError()
           << "cannot take " << quantizer.getReferenceName() << ": ";
  });
}

/// Sets `quantizer` on `members` (one linear, or a fusion group's members,
/// which change together), or `fallback` when `quantizer` cannot pack one of
/// them (a remark names the layer and the rule); without a fallback, or
/// when the fallback cannot pack them either, that is an error.
LogicalResult assign(ArrayRef<LinearOp> members,
                     QuantizerAttrInterface quantizer,
                     QuantizerAttrInterface fallback,
                     SymbolTableCollection &symbolTable) {
  for (LinearOp member : members) {
    if (succeeded(fits(member, quantizer, symbolTable, /*report=*/!fallback)))
      continue;
    if (!fallback)
      return failure();
    for (LinearOp other : members)
      if (failed(fits(other, fallback, symbolTable, /*report=*/true)))
        return failure();
    FailureOr<std::pair<int64_t, int64_t>> shape =
        member.getWeightShape(symbolTable);
    std::optional<std::string> rule =
        quantizer.getSpec().checkShape(shape->first, shape->second);
    member.emitRemark() << "takes the fallback " << fallback.getReferenceName()
                        << ": " << quantizer.getReferenceName()
                        << " cannot pack its " << shape->first << "x"
                        << shape->second << " weight (" << rule.value_or("")
                        << ")";
    for (LinearOp other : members)
      other.setQuantizerAttr(fallback);
    return success();
  }
  for (LinearOp member : members)
    member.setQuantizerAttr(quantizer);
  return success();
}

struct AssignQuantizerPass final
    : qpal::impl::AssignQuantizerPassBase<AssignQuantizerPass> {
  using AssignQuantizerPassBase::AssignQuantizerPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (quantizer.empty()) {
      module.emitError() << "qpal-assign-quantizer expects the 'quantizer' "
                            "option (a name such as tcq_6_none_0.9)";
      return signalPassFailure();
    }
    llvm::Expected<QuantizerAttrInterface> attr =
        parseQuantizerName(&getContext(), quantizer);
    if (!attr) {
      module.emitError() << llvm::toString(attr.takeError());
      return signalPassFailure();
    }

    QuantizerAttrInterface fallbackAttr;
    if (!fallback.empty()) {
      llvm::Expected<QuantizerAttrInterface> parsed =
          parseQuantizerName(&getContext(), fallback);
      if (!parsed) {
        module.emitError() << "bad fallback: "
                           << llvm::toString(parsed.takeError());
        return signalPassFailure();
      }
      fallbackAttr = *parsed;
    }

    SymbolTableCollection symbolTable;
    bool failedAny = false;
    // Members of a fusion group change together, so that they keep sharing
    // one quantizer.
    module.walk([&](FusionGroupOp group) {
      SmallVector<LinearOp, 4> members = group.getMembers();
      if (!overwrite && group.getQuantizer())
        return;
      failedAny |= failed(assign(members, *attr, fallbackAttr, symbolTable));
    });
    module.walk([&](LinearOp linear) {
      if (isa<FusionGroupOp>(linear->getParentOp()))
        return;
      if (!overwrite && linear.getQuantizerAttr())
        return;
      failedAny |= failed(assign({linear}, *attr, fallbackAttr, symbolTable));
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
