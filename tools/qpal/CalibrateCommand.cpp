//===- CalibrateCommand.cpp - `qpal calibrate` ----------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Runs a model over calibration text and writes, per block, the second
// moment and mean of each linear input (qpal/Model/Calibration.h): what the
// `hess` quantizers round against. The text is the State of the Union
// addresses before 2010 (or --text files); the evaluation years 2010-2021
// are refused, so calibration never sees the evaluation text.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModelOptions.h"

#include "qpal/Model/Calibration.h"
#include "qpal/Model/Generate.h"
#include "qpal/Model/Perplexity.h"
#include "qpal/Support/OutputFile.h"
#include "qpal/Support/Progress.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;
using namespace qpal;

static cl::SubCommand calibrateCommand(
    "calibrate", "Record the input statistics (Hessians) of a model's linear "
                 "layers on calibration text");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::sub(calibrateCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf | safetensors>"));
static cl::opt<std::string> outputPath("o", cl::sub(calibrateCommand),
                                       cl::Required,
                                       cl::cat(driver::category()),
                                       cl::desc("Output (.qpalh)"),
                                       cl::value_desc("file"));
static cl::list<std::string>
    textFiles("text", cl::sub(calibrateCommand), cl::cat(driver::category()),
              cl::desc("Calibrate on these files (joined by a blank line) "
                       "instead of the State of the Union addresses"),
              cl::value_desc("file"));
static cl::opt<int64_t> tokens("tokens", cl::sub(calibrateCommand),
                               cl::init(8192), cl::cat(driver::category()),
                               cl::desc("Calibration tokens (from the start)"));
static cl::opt<int64_t> context("ctx", cl::sub(calibrateCommand), cl::init(512),
                                cl::cat(driver::category()),
                                cl::desc("Tokens per window"));
static cl::opt<int> firstYear("first-year", cl::sub(calibrateCommand),
                              cl::init(2000), cl::cat(driver::category()),
                              cl::desc("State of the Union addresses from "
                                       "this year"));
static cl::opt<int> lastYear("last-year", cl::sub(calibrateCommand),
                             cl::init(2009), cl::cat(driver::category()),
                             cl::desc("... to this year (at most 2009: the "
                                      "evaluation uses 2010-2021)"));
static cl::opt<unsigned> threads("threads", cl::sub(calibrateCommand),
                                 cl::init(0), cl::cat(driver::category()),
                                 cl::desc("Worker threads (0: all)"));
static cl::opt<bool> quiet("quiet", cl::sub(calibrateCommand),
                           cl::cat(driver::category()),
                           cl::desc("No progress line on a terminal"));

static constexpr StringLiteral kCommand = "calibrate";

/// The year of a State of the Union file name ("2012_barack_obama.txt"), or
/// -1.
static int sotuYear(StringRef path) {
  StringRef name = sys::path::filename(path);
  int year;
  if (name.size() < 5 || name[4] != '_' ||
      name.take_front(4).getAsInteger(10, year))
    return -1;
  return year;
}

static int runCalibrate() {
  if (tokens < 1 || context < 1)
    return driver::reportError(
        kCommand, formatv("--tokens and --ctx must be positive, got {0} and "
                          "{1}",
                          tokens.getValue(), context.getValue()));
  if (textFiles.empty() && lastYear >= 2010)
    return driver::reportError(
        kCommand, formatv("--last-year {0} reaches the evaluation text "
                          "(2010-2021); calibrate on addresses before 2010",
                          lastYear.getValue()));
  for (const std::string &file : textFiles)
    if (int year = sotuYear(file); year >= 2010 && year <= 2021)
      return driver::reportError(
          kCommand, formatv("'{0}' is evaluation text (State of the Union "
                            "2010-2021); calibrate on other text",
                            file));
  if (Error err = checkOutputFile(outputPath))
    return driver::reportError(kCommand, toString(std::move(err)));

  model::InputAccumulator accumulator;
  model::EvaluatorOptions options;
  options.numThreads = threads;
  options.maxContext = context;
  options.inputObserver = accumulator.observer();
  auto start = std::chrono::steady_clock::now();
  Expected<model::LoadedModel> loaded = model::loadModel(modelPath, options);
  if (!loaded)
    return driver::reportError(kCommand, toString(loaded.takeError()));

  std::vector<int32_t> ids;
  std::string textName;
  model::PerplexityProtocol protocol;
  if (textFiles.empty()) {
    protocol.textDir = driver::getSharedDir() + "/data/sotu";
    protocol.firstYear = firstYear;
    protocol.lastYear = lastYear;
    protocol.maxTokens = tokens;
    Expected<std::vector<int32_t>> loadedIds =
        model::loadProtocolTokens(*loaded->tokenizer, protocol);
    if (!loadedIds)
      return driver::reportError(kCommand, toString(loadedIds.takeError()));
    ids = std::move(*loadedIds);
    textName = formatv("State of the Union {0}-{1}", firstYear.getValue(),
                       lastYear.getValue());
  } else {
    Expected<std::string> text = driver::readTextFiles(textFiles);
    if (!text)
      return driver::reportError(kCommand, toString(text.takeError()));
    size_t dropped = 0;
    ids = loaded->tokenizer->encode(*text, /*addBos=*/false,
                                    /*parseSpecial=*/false, &dropped);
    if (static_cast<int64_t>(ids.size()) > tokens)
      ids.resize(tokens);
    textName = join(textFiles, ", ");
    driver::warnDroppedBytes(kCommand, dropped, textName);
  }
  if (ids.empty())
    return driver::reportError(kCommand, "the calibration text has no tokens");

  ProgressLine progress("qpal calibrate", quiet);
  model::CalibrationOptions calibration;
  calibration.window = context;
  calibration.progress = [&](int64_t done, int64_t total) {
    progress.update(done, total, "tokens");
  };
  Expected<model::HessianSet> set =
      model::calibrate(*loaded->evaluator, accumulator, ids, calibration);
  progress.finish();
  if (!set)
    return driver::reportError(kCommand, toString(set.takeError()));
  if (Error err = model::writeHessianFile(*set, outputPath))
    return driver::reportError(kCommand, toString(std::move(err)));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!quiet)
    errs() << formatv("{0} input statistics of {1} written to {2}: {3} "
                      "tokens of {4}, windows of {5}, {6:f1} s\n",
                      set->inputs.size(),
                      sys::path::filename(modelPath.getValue()),
                      outputPath.getValue(), ids.size(), textName,
                      context.getValue(), seconds);
  return 0;
}

static driver::CommandRegistration registerCalibrate(calibrateCommand,
                                                     runCalibrate);
