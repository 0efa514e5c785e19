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
#include "qpal/Support/OutputFile.h"
#include "qpal/Support/Progress.h"
#include "qpal/Support/Svg.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>

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
static cl::opt<std::string> plotPath(
    "plot", cl::sub(paletteCommand), cl::cat(driver::category()),
    cl::desc("With --measure: also draw distortion against bits per weight "
             "for every family, with the Gaussian bound 2^(-2b), as SVG"),
    cl::value_desc("rd.svg"));
static cl::opt<bool> quiet("quiet", cl::sub(paletteCommand),
                           cl::cat(driver::category()),
                           cl::desc("No progress line on a terminal"));

/// The rate-distortion picture of `measured`: log-scale normalized MSE
/// against bits per weight, one line per family, the Gaussian bound dashed.
static std::string
renderRateDistortionSvg(ArrayRef<PaletteMeasurement> measured) {
  constexpr double kWidth = 640, kHeight = 440, kLeft = 70, kRight = 170,
                   kTop = 40, kBottom = 50;
  double plotWidth = kWidth - kLeft - kRight,
         plotHeight = kHeight - kTop - kBottom;
  double minBits = 1, maxBits = 8;
  for (const PaletteMeasurement &m : measured) {
    minBits = std::min(minBits, std::floor(m.bitsPerWeight));
    maxBits = std::max(maxBits, std::ceil(m.bitsPerWeight));
  }
  // Decades from below the smallest value (or the bound) to 1.
  double minLog = 0;
  for (const PaletteMeasurement &m : measured)
    if (m.normalizedMse > 0)
      minLog = std::min(minLog, std::floor(std::log10(m.normalizedMse)));
  minLog = std::min(minLog, std::floor(std::log10(std::exp2(-2 * maxBits))));
  double maxLog = 0;
  auto px = [&](double bits) {
    return kLeft + (bits - minBits) / (maxBits - minBits) * plotWidth;
  };
  auto py = [&](double mse) {
    double l = std::log10(std::max(mse, 1e-300));
    return kTop + (maxLog - l) / (maxLog - minLog) * plotHeight;
  };
  svg::Document doc(kWidth, kHeight);
  doc.text(kLeft, 24, "Distortion of the palette on an i.i.d. Gaussian source",
           14, "start", "bold");
  // Axes, grid and ticks.
  for (double l = minLog; l <= maxLog; ++l) {
    double y = py(std::pow(10, l));
    doc.line(kLeft, y, kLeft + plotWidth, y, "#e0e0e0");
    doc.text(kLeft - 6, y + 4, "1e" + svg::number(l, 0), 10, "end");
  }
  for (double b = minBits; b <= maxBits; ++b) {
    double x = px(b);
    doc.line(x, kTop, x, kTop + plotHeight, "#e0e0e0");
    doc.text(x, kTop + plotHeight + 16, svg::number(b, 0), 10, "middle");
  }
  doc.rect(kLeft, kTop, plotWidth, plotHeight, "none", "#000000", 1);
  doc.text(kLeft + plotWidth / 2, kHeight - 12, "bits per weight", 12,
           "middle");
  doc.text(18, kTop + plotHeight / 2, "normalized MSE (log scale)", 12,
           "middle", "normal", -90);
  // The bound 2^(-2b).
  std::vector<std::pair<double, double>> bound;
  for (double b = minBits; b <= maxBits + 1e-9; b += 0.25)
    bound.push_back({px(b), py(std::exp2(-2 * b))});
  doc.polyline(bound, "#000000", 1.5, "5,4");
  // One line per family, in rate order.
  std::map<std::string, std::vector<const PaletteMeasurement *>> families;
  for (const PaletteMeasurement &m : measured) {
    std::string family = m.spec.familyInfo().mnemonic().str();
    if (m.spec.kernel == KernelKind::Simt)
      family += " (SIMT)";
    families[family].push_back(&m);
  }
  static constexpr const char *kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                             "#d62728", "#9467bd", "#8c564b",
                                             "#e377c2", "#7f7f7f"};
  double legendY = kTop + 10;
  unsigned index = 0;
  for (auto &[family, members] : families) {
    const char *colour = kColours[index++ % std::size(kColours)];
    llvm::sort(members,
               [](const PaletteMeasurement *a, const PaletteMeasurement *b) {
                 return a->bitsPerWeight < b->bitsPerWeight;
               });
    std::vector<std::pair<double, double>> points;
    for (const PaletteMeasurement *m : members) {
      points.push_back({px(m->bitsPerWeight), py(m->normalizedMse)});
      doc.circle(points.back().first, points.back().second, 3, colour);
    }
    if (points.size() > 1)
      doc.polyline(points, colour);
    doc.line(kLeft + plotWidth + 14, legendY, kLeft + plotWidth + 34, legendY,
             colour, 2);
    doc.text(kLeft + plotWidth + 40, legendY + 4,
             family + " (" + std::to_string(members.size()) + ")", 11);
    legendY += 18;
  }
  doc.line(kLeft + plotWidth + 14, legendY, kLeft + plotWidth + 34, legendY,
           "#000000", 1.5, "5,4");
  doc.text(kLeft + plotWidth + 40, legendY + 4, "bound 2^(-2b)", 11);
  return doc.str();
}
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
    if (!plotPath.empty())
      if (Error err = checkOutputFile(plotPath))
        return driver::reportError("palette", toString(std::move(err)));
    // Done/total and the last one measured on a terminal; nothing on a
    // pipe.
    ProgressLine line("qpal palette", quiet);
    int64_t done = 0, total = int64_t(specs.size());
    auto progress = [&](const PaletteMeasurement &m) {
      line.update(++done, total, "quantizers",
                  formatv("{0}: {1:e3}", m.name, m.normalizedMse).str());
    };
    Expected<std::vector<PaletteMeasurement>> results =
        measurePalette(specs, rows, cols, seed, threads, progress);
    line.finish();
    if (!results)
      return driver::reportError("palette", toString(results.takeError()));
    measured = std::move(*results);
    if (!plotPath.empty())
      if (Error err =
              writeOutputFile(plotPath, renderRateDistortionSvg(measured)))
        return driver::reportError("palette", toString(std::move(err)));
  } else if (!plotPath.empty()) {
    return driver::reportError("palette", "--plot draws what --measure "
                                          "measures: add --measure");
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
          {"family", spec.familyInfo().mnemonic()},
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
        spec.familyInfo().mnemonic(), quantizer.getBitsPerWeight(),
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
