//===- AssignLmHead.cpp - The LM head as a quantized linear ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pass qpal-assign-lm-head: qpal.lm_head becomes a qpal.linear of role
// lm_head that carries the given quantizer.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace qpal {
#define GEN_PASS_DEF_ASSIGNLMHEADPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

struct AssignLmHeadPass final
    : qpal::impl::AssignLmHeadPassBase<AssignLmHeadPass> {
  using AssignLmHeadPassBase::AssignLmHeadPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (quantizer.empty()) {
      module.emitError() << "qpal-assign-lm-head expects the 'quantizer' "
                            "option (a name such as ldlq_1_4_none_1.0)";
      return signalPassFailure();
    }
    llvm::Expected<QuantizerAttrInterface> attr =
        parseQuantizerName(&getContext(), quantizer);
    if (!attr) {
      module.emitError() << llvm::toString(attr.takeError());
      return signalPassFailure();
    }
    SmallVector<LmHeadOp> heads;
    module.walk([&](LmHeadOp head) { heads.push_back(head); });
    if (heads.empty()) {
      module.emitError() << "qpal-assign-lm-head found no 'qpal.lm_head'";
      return signalPassFailure();
    }
    SymbolTableCollection symbols;
    // Every head is checked before any is rewritten.
    for (LmHeadOp head : heads) {
      auto weight =
          symbols.lookupNearestSymbolFrom<WeightOp>(head, head.getWeightAttr());
      if (!weight) {
        head.emitOpError() << "'" << head.getWeightAttr()
                           << "' does not reference a 'qpal.weight'";
        return signalPassFailure();
      }
      ArrayRef<int64_t> shape = weight.getTensorType().getShape();
      if (failed(attr->verifyShape(shape[0], shape[1], [&] {
            return head.emitOpError()
                   << "cannot take " << attr->getReferenceName() << ": ";
          })))
        return signalPassFailure();
    }
    Builder builder(&getContext());
    for (LmHeadOp head : heads) {
      OpBuilder rewriter(head);
      auto linear = LinearOp::create(
          rewriter, head.getLoc(), head.getType(), head.getInput(),
          head.getWeightAttr(), *attr, /*sensitivity=*/nullptr,
          /*block=*/nullptr,
          LinearRoleAttr::get(&getContext(), LinearRole::lm_head));
      head.replaceAllUsesWith(linear.getResult());
      head.erase();
    }
  }
};

} // namespace
