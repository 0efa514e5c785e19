//===- AttachSensitivity.cpp - Loss sensitivities from a JSON file --------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "qpal/Alloc/Inputs.h"
#include "qpal/Support/Limits.h"

#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <cstdio>

namespace qpal {
#define GEN_PASS_DEF_ATTACHSENSITIVITYPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

/// `value` as `%g` prints it.
std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// Reads the `coefficients` object of a reference sensitivity file. Every
/// value must be a finite non-negative number; errors name the key.
FailureOr<llvm::StringMap<double>> readCoefficients(ModuleOp module,
                                                    StringRef path) {
  llvm::Expected<llvm::json::Value> json = alloc::readJsonFile(path);
  if (!json) {
    mlir::emitError(module.getLoc())
        << "sensitivity file: " << llvm::toString(json.takeError());
    return failure();
  }
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *coefficients =
      root ? root->getObject("coefficients") : nullptr;
  if (!coefficients) {
    mlir::emitError(module.getLoc())
        << "expects an object 'coefficients' mapping layer keys such as "
           "'0_self_attn.q_proj' to numbers in the sensitivity file '"
        << path << "'";
    return failure();
  }
  llvm::StringMap<double> values;
  for (const auto &[key, value] : *coefficients) {
    std::optional<double> number = value.getAsNumber();
    if (!number || !isValidSensitivity(*number)) {
      InFlightDiagnostic diag =
          mlir::emitError(module.getLoc())
          << "expects a sensitivity in [0, 1e30] for layer '" << key.str()
          << "', got ";
      if (number)
        diag << formatNumber(*number);
      else
        diag << "a non-number";
      diag << " (in '" << path << "')";
      return failure();
    }
    values[key.str()] = *number;
  }
  return values;
}

struct AttachSensitivityPass final
    : qpal::impl::AttachSensitivityPassBase<AttachSensitivityPass> {
  using AttachSensitivityPassBase::AttachSensitivityPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (file.empty()) {
      mlir::emitError(module.getLoc())
          << "qpal-attach-sensitivity expects the 'file' "
             "option (a sensitivity JSON such as "
             "llama31_8b_sensitivity.json)";
      return signalPassFailure();
    }
    FailureOr<llvm::StringMap<double>> values = readCoefficients(module, file);
    if (failed(values))
      return signalPassFailure();

    Builder builder(&getContext());
    bool failedAny = false;
    module.walk([&](LinearOp linear) {
      std::string key = linear.getLayerKey();
      if (key.empty()) {
        linear.emitOpError() << "expects 'block' and 'role' to look up its "
                                "sensitivity, @"
                             << linear.getWeight() << " lacks "
                             << (linear.getBlock()  ? "'role'"
                                 : linear.getRole() ? "'block'"
                                                    : "'block' and 'role'");
        failedAny = true;
        return;
      }
      auto it = values->find(key);
      if (it == values->end()) {
        linear.emitOpError()
            << "expects a sensitivity for layer '" << key << "' (@"
            << linear.getWeight() << "), which '" << file << "' lacks";
        failedAny = true;
        return;
      }
      linear.setSensitivityAttr(builder.getF64FloatAttr(it->second));
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
