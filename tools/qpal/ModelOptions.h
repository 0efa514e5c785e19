//===- ModelOptions.h - What the model commands share -----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TOOLS_QPAL_MODELOPTIONS_H
#define QPAL_TOOLS_QPAL_MODELOPTIONS_H

#include "qpal/Alloc/ModelShape.h"
#include "qpal/Model/FakeQuant.h"
#include "qpal/Model/ModelFile.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace qpal::driver {

/// The folder of the reference data and texts: $QPAL_SHARED_DIR, else the
/// `shared/` the build was configured with.
std::string getSharedDir();

/// The weights a model command evaluates: the model's own (no plan), one
/// quantizer for every block linear, or a plan from a JSON file, whose
/// layers must all be layers of the model at `modelPath`.
llvm::Expected<std::optional<model::QuantPlan>>
getQuantPlan(llvm::StringRef quantizer, llvm::StringRef planPath,
             llvm::StringRef modelPath);

/// The text of `files`, joined by a blank line (as the evaluation protocol
/// joins its speeches); an unreadable file is an error that names it.
llvm::Expected<std::string> readTextFiles(llvm::ArrayRef<std::string> files);

/// The layer shapes of `config` as the planner sees them, named `name`;
/// errors name an inconsistent dimension.
llvm::Expected<alloc::ModelConfig>
getPlannerModel(const model::ModelConfig &config, llvm::StringRef name);

/// Describes `plan` for people: "fp", a quantizer name or the plan's path.
std::string describeWeights(llvm::StringRef quantizer,
                            llvm::StringRef planPath);

} // namespace qpal::driver

#endif // QPAL_TOOLS_QPAL_MODELOPTIONS_H
