//===- UsqPasses.cpp - usq-replace-sq -------------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "Usq.h"

#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/BuiltinOps.h"

namespace usq {
#define GEN_PASS_DEF_USQREPLACESQ
#include "UsqPasses.h.inc"
} // namespace usq

using namespace mlir;

namespace {
struct ReplaceSq : usq::impl::UsqReplaceSqBase<ReplaceSq> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    AttrTypeReplacer replacer;
    // Wherever the attribute sits, nested in a packed weight type or a
    // palette included, it is rebuilt with the replacement.
    replacer.addReplacement([&](qpal::SqAttr sq) -> std::optional<Attribute> {
      if (sq.getKernel() != qpal::KernelKind::TensorCore)
        return std::nullopt;
      return usq::UniformAttr::get(context, sq.getBits(), sq.getScale(),
                                   sq.getHessian());
    });
    replacer.recursivelyReplaceElementsIn(getOperation(),
                                          /*replaceAttrs=*/true,
                                          /*replaceLocs=*/false,
                                          /*replaceTypes=*/true);
  }
};
} // namespace
