//===- UsqPlugin.cpp - The plug-in's entry points -------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `qpal-opt --load-dialect-plugin=libUsqPlugin.so` (and `qpal
// --load-dialect-plugin=...`) call mlirGetDialectPluginInfo: the family
// registers with qpal and the dialect with the tool's registry.
// `qpal-opt --load-pass-plugin=libUsqPlugin.so` calls mlirGetPassPluginInfo:
// the pass registers (use it through --pass-pipeline). One library is both.
//
//===----------------------------------------------------------------------===//

#include "Usq.h"

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

llvm::Error usq::registerUsqQuantizer() {
  return qpal::registerPluginQuantizer(
      getUsqFamilyInfo(),
      {[](MLIRContext *context,
          const qpal::QuantizerSpec &spec) -> qpal::QuantizerAttrInterface {
         return UniformAttr::fromSpec(context, spec);
       },
       [](MLIRContext *context) { context->getOrLoadDialect<UsqDialect>(); }});
}

/// Both entry points register the family, whichever the tool calls first
/// (the pass creates #usq.uniform attributes, so it needs the family too).
/// A clash (another plug-in took the value or the mnemonic) is the user's
/// to resolve: say which, and stop.
static void registerUsqQuantizerOrExit() {
  if (llvm::Error err = usq::registerUsqQuantizer())
    llvm::report_fatal_error(llvm::Twine("usq plug-in: ") +
                                 toString(std::move(err)),
                             /*gen_crash_diag=*/false);
}

extern "C" LLVM_ATTRIBUTE_WEAK
    LLVM_ATTRIBUTE_VISIBILITY_DEFAULT DialectPluginLibraryInfo
    mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "usq", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            registerUsqQuantizerOrExit();
            registry->insert<usq::UsqDialect>();
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK
    LLVM_ATTRIBUTE_VISIBILITY_DEFAULT PassPluginLibraryInfo
    mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "usq", LLVM_VERSION_STRING, [] {
            registerUsqQuantizerOrExit();
            usq::registerUsqPasses();
          }};
}
