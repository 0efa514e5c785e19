//===- PaletteCommand.cpp - `qpal palette` ---------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Prints the Q-Palette palette: every quantizer's reference name, family,
// bits per weight, expected Gaussian distortion and kernel family, as a table
// or as JSON.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;
using namespace qpal;

static cl::SubCommand paletteCommand(
    "palette", "Print the quantizer palette (names, rates, distortion, "
               "kernels)");
static cl::opt<bool> emitJson("json", cl::sub(paletteCommand),
                              cl::cat(driver::category()),
                              cl::desc("Print a JSON array instead of a "
                                       "table"));

/// The kernels that can run `quantizer`: tensor-core, and CUDA-core for the
/// lookup-table families.
static SmallVector<StringRef> kernelsOf(const QuantizerSpec &spec) {
  SmallVector<StringRef> kernels = {
      stringifyKernelFamily(spec.kernelFamily())};
  if (spec.family == QuantizerFamily::Vq || spec.family == QuantizerFamily::Sq) {
    QuantizerSpec simt = spec;
    simt.kernel = KernelKind::Simt;
    kernels.push_back(stringifyKernelFamily(simt.kernelFamily()));
  }
  return kernels;
}

static std::string printAttr(mlir::Attribute attr) {
  std::string text;
  raw_string_ostream os(text);
  os << attr;
  return text;
}

static int runPalette() {
  mlir::MLIRContext context;
  context.loadDialect<QPalDialect>();
  PaletteAttr palette = getReferencePalette(&context);

  if (emitJson) {
    json::Array array;
    for (QuantizerAttrInterface quantizer : palette.getQuantizers()) {
      QuantizerSpec spec = quantizer.getSpec();
      double bound = std::exp2(-2.0 * spec.bitsPerWeight());
      json::Array kernels;
      for (StringRef kernel : kernelsOf(spec))
        kernels.push_back(kernel.str());
      array.push_back(json::Object{
          {"name", quantizer.getReferenceName()},
          {"attribute", printAttr(quantizer)},
          {"family", stringifyQuantizerFamily(spec.family)},
          {"bits", quantizer.getBitsPerWeight()},
          {"expected_distortion", quantizer.getExpectedDistortion()},
          {"gaussian_bound", bound},
          {"kernel_family", stringifyKernelFamily(quantizer.getKernelFamily())},
          {"kernels", std::move(kernels)},
          {"codebook_bytes", static_cast<int64_t>(spec.codebookBytes())},
      });
    }
    outs() << formatv("{0:2}", json::Value(std::move(array))) << "\n";
    return 0;
  }

  outs() << formatv("{0,-26} {1,-36} {2,-10} {3,5} {4,12} {5,7}  {6}\n",
                    "name", "attribute", "family", "bits", "distortion",
                    "/bound", "kernels");
  for (QuantizerAttrInterface quantizer : palette.getQuantizers()) {
    QuantizerSpec spec = quantizer.getSpec();
    double bound = std::exp2(-2.0 * spec.bitsPerWeight());
    outs() << formatv("{0,-26} {1,-36} {2,-10} {3,5:f2} {4,12:e3} {5,7:f3}  "
                      "{6}\n",
                      quantizer.getReferenceName(), printAttr(quantizer),
                      stringifyQuantizerFamily(spec.family),
                      quantizer.getBitsPerWeight(),
                      quantizer.getExpectedDistortion(),
                      quantizer.getExpectedDistortion() / bound,
                      join(kernelsOf(spec), ", "));
  }
  outs() << formatv("\n{0} quantizers. distortion: normalized MSE on an "
                    "i.i.d. Gaussian source (the reference's measurement); "
                    "/bound: its ratio to 2^(-2 bits).\n",
                    palette.getQuantizers().size());
  return 0;
}

static driver::CommandRegistration registerPalette(paletteCommand, runPalette);
