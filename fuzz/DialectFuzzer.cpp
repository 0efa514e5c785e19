//===- DialectFuzzer.cpp - libFuzzer harness for the qpal dialect ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Parses arbitrary bytes as MLIR with the qpal dialect (its attribute and
// type parsers, its ops' custom assembly and verifiers) and the upstream
// dialects qpal's IR uses. A module that parses and verifies is printed,
// parsed again and printed again: the second text must parse, verify and
// equal the first (each parse in a fresh context). Any diagnostic is fine; a
// crash, a sanitizer report or a broken round trip is a finding. The seeds are
// the split inputs of test/Dialect (fuzz/corpus/dialect), and fuzz/qpal.dict
// has the keywords.
//
//===----------------------------------------------------------------------===//

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

std::unique_ptr<mlir::DialectRegistry> registry;

/// A context of its own for every parse: state a context keeps (the names
/// of dense resources, which it renames when taken) must not carry from one
/// input, or one parse, to the next.
std::unique_ptr<mlir::MLIRContext> makeContext() {
  auto context = std::make_unique<mlir::MLIRContext>(
      *registry, mlir::MLIRContext::Threading::DISABLED);
  context->loadAllAvailableDialects();
  return context;
}

[[noreturn]] void finding(const std::string &what) {
  std::fprintf(stderr, "finding: %s\n", what.c_str());
  std::abort();
}

std::string print(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  registry = std::make_unique<mlir::DialectRegistry>();
  registry->insert<qpal::QPalDialect, mlir::func::FuncDialect,
                   mlir::arith::ArithDialect, mlir::math::MathDialect,
                   mlir::scf::SCFDialect, mlir::memref::MemRefDialect,
                   mlir::tensor::TensorDialect, mlir::vector::VectorDialect>();
  return 0;
}

/// Parses and verifies `text` in a fresh context and prints it; "" when it
/// does not parse or verify (with every diagnostic swallowed).
static std::string parseAndPrint(const std::string &text,
                                 llvm::StringRef name) {
  std::unique_ptr<mlir::MLIRContext> context = makeContext();
  mlir::ScopedDiagnosticHandler quiet(
      context.get(), [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::ParserConfig config(context.get(), /*verifyAfterParse=*/true);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, config, name);
  return module ? print(*module) : std::string();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // MLIR's lexer relies on the NUL after the buffer (as a file read by
  // MemoryBuffer, or a std::string, has); libFuzzer's input has none.
  std::string first = parseAndPrint(
      std::string(reinterpret_cast<const char *>(data), size), "fuzz.mlir");
  if (first.empty())
    return 0;
  std::string second = parseAndPrint(first, "printed.mlir");
  if (second.empty())
    finding("the printed module does not parse and verify:\n" + first);
  if (first != second)
    finding("the module changes on a round trip:\n" + first + "\n---\n" +
            second);
  return 0;
}
