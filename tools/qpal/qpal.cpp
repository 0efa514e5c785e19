//===- qpal.cpp - The qpal user driver
//-------------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `qpal <command> [options]`: the user's entry point. Subcommands register
// themselves (see Commands.h); this file only dispatches.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "qpal/Conversion/BackendOptions.h"

#include "qpalpkg.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

using namespace llvm;
using namespace qpal::driver;

namespace {
struct Registered {
  cl::SubCommand *command;
  CommandFn run;
};
std::vector<Registered> &registry() {
  static std::vector<Registered> commands;
  return commands;
}
} // namespace

CommandRegistration::CommandRegistration(cl::SubCommand &command,
                                         CommandFn run) {
  registry().push_back({&command, std::move(run)});
}

cl::OptionCategory &qpal::driver::category() {
  static cl::OptionCategory options("qpal options");
  return options;
}

int qpal::driver::reportError(StringRef command, const Twine &message) {
  errs() << "qpal " << command << ": ";
  WithColor::error(errs(), "") << message << "\n";
  return 1;
}

void qpal::driver::reportWarning(StringRef command, const Twine &message) {
  errs() << "qpal " << command << ": ";
  WithColor::warning(errs(), "") << message << "\n";
}

void qpal::driver::warnDroppedBytes(StringRef command, size_t dropped,
                                    StringRef what) {
  if (dropped)
    reportWarning(command,
                  formatv("{0} byte{1} of {2} have no token in the model's "
                          "vocabulary and were dropped (llama.cpp drops them "
                          "too)",
                          dropped, dropped == 1 ? "" : "s", what));
}

/// Loads each `--load-dialect-plugin` library: a plug-in quantizer family
/// registers itself (registerPluginQuantizer) when its dialects are
/// registered, as in qpal-opt. Returns false after reporting a failure.
static bool loadDialectPlugins(ArrayRef<std::string> paths) {
  for (const std::string &given : paths) {
    // dlopen searches the library path for a name without a slash: a file
    // named in the working directory is meant.
    SmallString<256> path(given);
    if (sys::fs::exists(path))
      sys::fs::make_absolute(path);
    Expected<mlir::DialectPlugin> plugin =
        mlir::DialectPlugin::load(path.str().str());
    if (!plugin) {
      errs() << "qpal: ";
      WithColor::error(errs(), "")
          << "cannot load the dialect plug-in '" << given
          << "': " << toString(plugin.takeError()) << "\n";
      return false;
    }
    // The dialects register into the context of each command through the
    // qpal dialect (registerPluginQuantizer's `loadDialect`); this registry
    // only runs the plug-in's registration.
    mlir::DialectRegistry registry;
    plugin->registerDialectRegistryCallbacks(registry);
  }
  return true;
}

int main(int argc, char **argv) {
  InitLLVM initLLVM(argc, argv);
  static cl::list<std::string> dialectPlugins(
      "load-dialect-plugin",
      cl::desc("Load a dialect plug-in that adds a quantizer family "
               "(docs/NewQuantizer.md, \"Out of tree\"); repeatable"),
      cl::value_desc("library"), cl::sub(cl::SubCommand::getAll()),
      cl::cat(category()));
  cl::HideUnrelatedOptions(category());
  for (Registered &entry : registry())
    cl::HideUnrelatedOptions(category(), *entry.command);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "qpal " << QPAL_VERSION_STRING << " (package format "
       << QPALPKG_FORMAT_VERSION << ", LLVM " << LLVM_VERSION_STRING << ")\n";
  });
  std::vector<const char *> args(argv, argv + argc);
  qpal::appendDefaultBackendOptions(args);
  cl::ParseCommandLineOptions(
      static_cast<int>(args.size()), args.data(),
      "qpal: compile Llama-family models to weight-only quantized inference "
      "code (Q-Palette)\n\n"
      "  Run `qpal <command> --help` for the options of one command.\n");
  if (!loadDialectPlugins(dialectPlugins))
    return 1;
  for (Registered &entry : registry())
    if (*entry.command)
      return entry.run();
  errs() << "qpal: no command given; run `qpal --help` for the list\n";
  return 1;
}
