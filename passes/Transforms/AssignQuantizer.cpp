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

/// Sets `quantizer` on `linear` after checking that its weight fits.
LogicalResult assign(LinearOp linear, QuantizerAttrInterface quantizer,
                     SymbolTableCollection &symbolTable) {
  FailureOr<std::pair<int64_t, int64_t>> shape =
      linear.getWeightShape(symbolTable);
  if (failed(shape))
    return failure();
  if (failed(quantizer.verifyShape(shape->first, shape->second, [&] {
        return linear.emitOpError()
               << "cannot take " << quantizer.getReferenceName() << ": ";
      })))
    return failure();
  linear.setQuantizerAttr(quantizer);
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

    SymbolTableCollection symbolTable;
    bool failedAny = false;
    // Members of a fusion group change together, so that they keep sharing
    // one quantizer.
    module.walk([&](FusionGroupOp group) {
      SmallVector<LinearOp, 4> members = group.getMembers();
      if (!overwrite && group.getQuantizer())
        return;
      for (LinearOp member : members)
        failedAny |= failed(assign(member, *attr, symbolTable));
    });
    module.walk([&](LinearOp linear) {
      if (isa<FusionGroupOp>(linear->getParentOp()))
        return;
      if (!overwrite && linear.getQuantizerAttr())
        return;
      failedAny |= failed(assign(linear, *attr, symbolTable));
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
