//===- PaletteCommand.cpp - `qpal palette`
//---------------------------------===//
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
#include "qpal/Quant/Measure.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Support/Limits.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;
using namespace qpal;

static cl::SubCommand
    paletteCommand("palette",
                   "Print the quantizer palette (names, rates, distortion, "
                   "kernels)");
static cl::opt<bool> emitJson("json", cl::sub(paletteCommand),
                              cl::cat(driver::category()),
                              cl::desc("Print a JSON array instead of a "
                                       "table"));

static cl::opt<bool> measure(
    "measure", cl::sub(paletteCommand), cl::cat(driver::category()),
    cl::desc("Quantize a seeded Gaussian matrix with every quantizer and "
             "report the normalized MSE and encode throughput"));
static cl::opt<int64_t> rows("rows", cl::sub(paletteCommand), cl::init(1024),
                             cl::cat(driver::category()),
                             cl::desc("Rows of the --measure matrix"));
static cl::opt<int64_t> cols("cols", cl::sub(paletteCommand), cl::init(1024),
                             cl::cat(driver::category()),
                             cl::desc("Columns of the --measure matrix"));
static cl::opt<uint64_t> seed("seed", cl::sub(paletteCommand), cl::init(0),
                              cl::cat(driver::category()),
                              cl::desc("Seed of the --measure matrix"));
static cl::opt<unsigned> threads("threads", cl::sub(paletteCommand),
                                 cl::init(0), cl::cat(driver::category()),
                                 cl::desc("Encoder threads (0: all cores)"));
static cl::opt<bool> allMembers(
    "all", cl::sub(paletteCommand), cl::cat(driver::category()),
    cl::desc("List every member of every quantizer family (each rate, each "
             "kernel layout) instead of the reference palette"));
static cl::list<std::string>
    only("only", cl::sub(paletteCommand), cl::CommaSeparated,
         cl::cat(driver::category()),
         cl::desc("Measure only these quantizers (reference names)"));

/// The kernels that can run `quantizer`: tensor-core, and CUDA-core for the
/// families with a SIMT layout.
static SmallVector<StringRef> kernelsOf(const QuantizerSpec &spec) {
  QuantizerSpec tensorCore = spec;
  tensorCore.kernel = KernelKind::TensorCore;
  SmallVector<StringRef> kernels = {
      stringifyKernelFamily(tensorCore.kernelFamily())};
  if (spec.hasSimtLayout()) {
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
  if (allMembers && !only.empty())
    return driver::reportError("palette",
                               "--all and --only exclude each other");
  if (allMembers) {
    SmallVector<QuantizerAttrInterface> members;
    for (const QuantizerFamilyInfo *family : quantizerFamilies())
      for (const QuantizerSpec &spec : family->members())
        members.push_back(getQuantizerAttr(&context, spec));
    palette = PaletteAttr::get(&context, members);
  }
  if (!only.empty()) {
    SmallVector<QuantizerAttrInterface> chosen;
    for (const std::string &name : only) {
      Expected<QuantizerAttrInterface> quantizer =
          parseQuantizerName(&context, name);
      if (!quantizer)
        return driver::reportError("palette", toString(quantizer.takeError()));
      if (llvm::is_contained(chosen, *quantizer))
        return driver::reportError("palette",
                                   formatv("--only lists {0} twice", name));
      chosen.push_back(*quantizer);
    }
    palette = PaletteAttr::get(&context, chosen);
  }

  // With --measure, every quantizer codes the same seeded N(0, 1) matrix.
  std::vector<PaletteMeasurement> measured;
  if (measure) {
    if (Error err = checkMatrixShape("--rows and --cols", rows, cols))
      return driver::reportError("palette", toString(std::move(err)));
    std::vector<QuantizerSpec> specs;
    for (QuantizerAttrInterface quantizer : palette.getQuantizers())
      specs.push_back(quantizer.getSpec());
    auto progress = [&](const PaletteMeasurement &m) {
      if (!emitJson)
        errs() << formatv("measured {0}: {1:e4} in {2:f1} s\n", m.name,
                          m.normalizedMse, m.encodeSeconds);
    };
    Expected<std::vector<PaletteMeasurement>> results =
        measurePalette(specs, rows, cols, seed, threads, progress);
    if (!results)
      return driver::reportError("palette", toString(results.takeError()));
    measured = std::move(*results);
  }

  if (emitJson) {
    json::Array array;
    for (auto [index, quantizer] : llvm::enumerate(palette.getQuantizers())) {
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
      if (measure) {
        json::Object &object = *array.back().getAsObject();
        const PaletteMeasurement &m = measured[index];
        object["distortion"] = m.normalizedMse;
        object["distortion_vs_expected"] = m.relativeDifference;
        object["bound_ratio"] = m.boundRatio;
        object["weights_per_second"] = m.weightsPerSecond;
        object["encode_seconds"] = m.encodeSeconds;
      }
    }
    outs() << formatv("{0:2}", json::Value(std::move(array))) << "\n";
    return 0;
  }

  if (measure) {
    outs() << formatv("normalized MSE of a seeded {0}x{1} N(0, 1) matrix "
                      "(seed {2}), against the reference's measurement\n\n",
                      rows.getValue(), cols.getValue(), seed.getValue());
    outs() << formatv("{0,-26} {1,5} {2,12} {3,12} {4,8} {5,7} {6,12}\n",
                      "name", "bits", "measured", "reference", "diff", "/bound",
                      "weights/s");
    for (const PaletteMeasurement &m : measured)
      outs() << formatv("{0,-26} {1,5:f2} {2,12:e4} {3,12:e4} {4,7:f2}% "
                        "{5,7:f3} {6,12:e3}\n",
                        m.name, m.bitsPerWeight, m.normalizedMse,
                        m.referenceMse, 100 * m.relativeDifference,
                        m.boundRatio, m.weightsPerSecond);
    return 0;
  }

  outs() << formatv("{0,-26} {1,-36} {2,-10} {3,5} {4,12} {5,7}  {6}\n", "name",
                    "attribute", "family", "bits", "distortion", "/bound",
                    "kernels");
  for (QuantizerAttrInterface quantizer : palette.getQuantizers()) {
    QuantizerSpec spec = quantizer.getSpec();
    double bound = std::exp2(-2.0 * spec.bitsPerWeight());
    outs() << formatv(
        "{0,-26} {1,-36} {2,-10} {3,5:f2} {4,12:e3} {5,7:f3}  "
        "{6}\n",
        quantizer.getReferenceName(), printAttr(quantizer),
        stringifyQuantizerFamily(spec.family), quantizer.getBitsPerWeight(),
        quantizer.getExpectedDistortion(),
        quantizer.getExpectedDistortion() / bound, join(kernelsOf(spec), ", "));
  }
  outs() << formatv("\n{0} quantizers. distortion: normalized MSE on an "
                    "i.i.d. Gaussian source (the reference's measurement); "
                    "/bound: its ratio to 2^(-2 bits).\n",
                    palette.getQuantizers().size());
  return 0;
}

static driver::CommandRegistration registerPalette(paletteCommand, runPalette);
