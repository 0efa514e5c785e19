//===- Commands.h - Subcommands of the qpal driver --------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Each `qpal` subcommand lives in its own `*Command.cpp`: it declares an
// `llvm::cl::SubCommand`, its options with `llvm::cl::sub(...)`, and registers
// its entry point with a static `CommandRegistration`.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_TOOLS_QPAL_COMMANDS_H
#define QPAL_TOOLS_QPAL_COMMANDS_H

#include "qpal/Model/ModelFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/CommandLine.h"

#include <functional>

namespace qpal::driver {

/// The entry point of a subcommand: returns the process exit code.
using CommandFn = std::function<int()>;

/// Registers `run` as the entry point of `command`.
struct CommandRegistration {
  CommandRegistration(llvm::cl::SubCommand &command, CommandFn run);
};

/// The option category of every qpal driver option; `--help` shows only
/// options in it (libLLVM registers hundreds of its own).
llvm::cl::OptionCategory &category();

/// Prints `message` as `qpal <command>: error: <message>` and returns 1.
int reportError(llvm::StringRef command, const llvm::Twine &message);

/// Prints `qpal <command>: warning: <message>`.
void reportWarning(llvm::StringRef command, const llvm::Twine &message);

/// Warns, when `dropped` > 0, that that many bytes of `what` have no token
/// in the model's vocabulary and were left out of its tokens.
void warnDroppedBytes(llvm::StringRef command, size_t dropped,
                      llvm::StringRef what);

/// Expresses `file` in the qpal dialect, as `qpal import` does (with
/// `fuse`, the q/k/v and gate/up candidates in fusion groups; with
/// `palette`, the reference palette attached); on failure `error` says why.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const model::ModelFile &file, bool fuse,
            bool palette, std::string &error);

} // namespace qpal::driver

#endif // QPAL_TOOLS_QPAL_COMMANDS_H
