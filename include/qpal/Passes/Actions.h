//===- Actions.h - MLIR actions of qpal's passes ----------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Long steps of qpal's passes run as MLIR actions (mlir/IR/Action.h), so that
// whoever drives the pass manager can follow them by registering an action
// handler on the context: `qpal compile` draws its progress line from
// QuantizeLayerAction, and `qpal-opt --log-actions-to=-` lists them.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PASSES_ACTIONS_H
#define QPAL_PASSES_ACTIONS_H

#include "mlir/IR/Action.h"
#include "mlir/Support/TypeID.h"

#include <string>

namespace qpal {

/// qpal-quantize-weights quantizes layer (or fusion group) `index` of
/// `total` (0-based), `name` (its packed weight's sources, e.g.
/// "blk.3.attn_q.weight"), with `quantizer`.
class QuantizeLayerAction
    : public mlir::tracing::ActionImpl<QuantizeLayerAction> {
public:
  QuantizeLayerAction(llvm::ArrayRef<mlir::IRUnit> units, int64_t index,
                      int64_t total, std::string name, std::string quantizer)
      : ActionImpl(units), index(index), total(total), name(std::move(name)),
        quantizer(std::move(quantizer)) {}

  static constexpr llvm::StringLiteral tag = "qpal-quantize-layer";

  void print(llvm::raw_ostream &os) const override {
    os << "quantize layer " << index + 1 << "/" << total << " " << name
       << " with " << quantizer;
  }

  int64_t index, total;
  std::string name, quantizer;
};

} // namespace qpal

MLIR_DECLARE_EXPLICIT_TYPE_ID(qpal::QuantizeLayerAction)

#endif // QPAL_PASSES_ACTIONS_H
