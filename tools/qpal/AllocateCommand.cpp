//===- AllocateCommand.cpp - `qpal allocate`
//-------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Solves mixed-scheme quantization (MSQ) for a model given as tables: per-layer
// sensitivities, a memory budget and/or a throughput target under a latency
// model, and prints the plan (a per-block table and its certificate) or its
// JSON. The same problem on IR is `qpal-opt -qpal-allocate-bits`.
//
// Defaults: the palette is `reference-memory` (the 15 TCQ quantizers of
// solve_mem_const.py) when only a memory budget is given and
// `reference-latency-simt` (32 quantizers, SQ/VQ with tensor-core and SIMT
// kernels, solve_lat_const.py --use_cc) when a throughput target is given;
// err(q) is the reference's quantizer_distortion.json; layer shapes are
// Llama-3.1-8B's; the memory budget counts codes, codebooks, scales and sign
// vectors (`--memory-model full`). Fusion (qk, kv, qv, qkv, ug) is allowed
// whenever a latency model is given, since it only changes latency.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModelOptions.h"

#include "qpal/Model/ModelFile.h"

#include "qpal/Alloc/Msq.h"
#include "qpal/Alloc/ProblemBuilder.h"
#include "qpal/Passes/Allocation.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Support/OutputFile.h"

#include "mlir/Pass/PassManager.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>

using namespace llvm;
using namespace qpal;
using namespace qpal::alloc;

static cl::SubCommand allocateCommand(
    "allocate", "Choose each layer's quantizer and the fusion of each block "
                "(mixed-scheme quantization) for a budget");

static cl::opt<std::string> sensitivityPath(
    "sensitivity", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("Per-layer sensitivities, reference JSON format (required)"),
    cl::value_desc("file"));
static cl::opt<double> budgetBits(
    "budget-bits", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("Memory budget: average bits per weight of the linear layers"),
    cl::value_desc("bits"));
static cl::opt<double> targetTokensPerSecond(
    "target-tokens-per-second", cl::sub(allocateCommand),
    cl::cat(driver::category()),
    cl::desc("Latency budget: predicted decode tokens per second at batch 1 "
             "(needs --latency-table or --roofline)"),
    cl::value_desc("tokens/s"));
static cl::opt<std::string> latencyTablePath(
    "latency-table", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("Measured latency table JSON (llama31_8b_latency_rtx4090.json "
             "schema)"),
    cl::value_desc("file"));
static cl::opt<std::string> roofline(
    "roofline", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("Analytic latency model instead of a table: rtx4090 or h100"),
    cl::value_desc("gpu"));
static cl::opt<bool> noFusion("no-fusion", cl::sub(allocateCommand),
                              cl::cat(driver::category()),
                              cl::desc("Do not fuse q/k/v or gate/up"));
static cl::opt<std::string> paletteName(
    "palette", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("reference-memory (default without a throughput target), "
             "reference-latency, reference-latency-simt (default with one), "
             "full (each also with -hess: rounded with LDLQ), or "
             "comma-separated quantizer names (':simt' for the CUDA-core "
             "kernel)"),
    cl::value_desc("palette"));
static cl::opt<std::string> distortionPath(
    "distortion", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("Quantizer distortion JSON (normalized_mse); default: the "
             "reference's measurements"),
    cl::value_desc("file"));
static cl::opt<std::string> layerErrorsPath(
    "layer-errors", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("Per-layer errors measured with Hessians (`qpal layer-errors` "
             "JSON): err_l(q) per layer instead of one err(q) per "
             "quantizer"),
    cl::value_desc("file"));
static cl::opt<std::string>
    shapes("shapes", cl::sub(allocateCommand), cl::cat(driver::category()),
           cl::init("llama-3.1-8b"),
           cl::desc("Built-in model whose layer shapes to plan for"),
           cl::value_desc("model"));
static cl::opt<std::string>
    modelFile("model", cl::sub(allocateCommand), cl::cat(driver::category()),
              cl::desc("Plan for the layer shapes of this model file (GGUF "
                       "or safetensors) instead of --shapes"),
              cl::value_desc("file"));
static cl::opt<std::string> plotPath(
    "plot", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::desc("Also draw the plan as SVG: blocks x layer roles, colour = bits "
             "per weight, SIMT kernels and fused groups marked"),
    cl::value_desc("plan.svg"));
static cl::opt<std::string> memoryModelName(
    "memory-model", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::init("full"),
    cl::desc("What the memory budget counts: full (codes, codebooks, scales, "
             "signs) or reference (codes and codebooks, as the released "
             "solver)"),
    cl::value_desc("model"));
static cl::opt<std::string> solverName(
    "solver", cl::sub(allocateCommand), cl::cat(driver::category()),
    cl::init("auto"),
    cl::desc("auto (the exact Lagrangian DP, CBC where it gives up), cbc, "
             "or dp"),
    cl::value_desc("solver"));
static cl::opt<double>
    timeLimit("time-limit", cl::sub(allocateCommand),
              cl::cat(driver::category()), cl::init(60.0),
              cl::desc("Wall-clock limit of the MIP solve, seconds"),
              cl::value_desc("seconds"));
static cl::opt<bool>
    emitJson("json", cl::sub(allocateCommand), cl::cat(driver::category()),
             cl::desc("Print the plan as JSON instead of a summary"));
static cl::opt<std::string>
    outputPath("o", cl::sub(allocateCommand), cl::cat(driver::category()),
               cl::init("-"), cl::desc("Output file (default: stdout)"),
               cl::value_desc("file"));

/// `value` as `%g` prints it.
static std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

static int fail(const Twine &message) {
  return driver::reportError("allocate", message);
}

static int fail(Error err) { return fail(toString(std::move(err))); }

/// The budgets and models the options ask for.
static MsqRequest buildRequest() {
  bool hasBits = budgetBits.getNumOccurrences() > 0;
  bool hasTokens = targetTokensPerSecond.getNumOccurrences() > 0;
  MsqRequest request;
  request.spelling = OptionSpelling::CommandLine;
  if (hasBits)
    request.budgetBits = budgetBits;
  if (hasTokens)
    request.tokensPerSecond = targetTokensPerSecond;
  request.latencyTable = latencyTablePath;
  request.roofline = roofline;
  request.palette = paletteName;
  request.distortion = distortionPath;
  request.layerErrors = layerErrorsPath;
  request.memoryModel = memoryModelName;
  request.fusion = !noFusion;
  return request;
}

/// Builds the problem from the options; errors name the offending input.
static Expected<MsqProblem> buildProblem() {
  auto error = [](const Twine &message) -> Error {
    return createStringError(inconvertibleErrorCode(), message);
  };
  if (sensitivityPath.empty())
    return error("--sensitivity is required: a per-layer sensitivity JSON "
                 "such as llama31_8b_sensitivity.json");
  MsqProblem problem;
  if (!modelFile.empty()) {
    auto file = model::openModel(modelFile);
    if (!file)
      return file.takeError();
    auto model = driver::getPlannerModel((*file)->getConfig(),
                                         sys::path::filename(modelFile));
    if (!model)
      return model.takeError();
    problem.model = std::move(*model);
  } else {
    auto model = ModelConfig::byName(shapes);
    if (!model)
      return model.takeError();
    problem.model = *model;
  }
  auto sensitivities = loadSensitivities(sensitivityPath);
  if (!sensitivities)
    return sensitivities.takeError();
  if (sensitivities->numBlocks() != problem.model.numBlocks)
    return error(formatv("'{0}' has sensitivities for {1} blocks, model "
                         "'{2}' has {3}",
                         sensitivityPath.getValue(), sensitivities->numBlocks(),
                         problem.model.name, problem.model.numBlocks));
  problem.sensitivities = std::move(*sensitivities);
  if (Error err = configureMsqProblem(problem, buildRequest()))
    return std::move(err);
  return problem;
}

static Expected<SolveOptions> buildSolveOptions() {
  SolveOptions options;
  if (solverName == "auto")
    options.solver = MsqSolver::Auto;
  else if (solverName == "cbc")
    options.solver = MsqSolver::Cbc;
  else if (solverName == "dp")
    options.solver = MsqSolver::LagrangianDp;
  else
    return createStringError(
        inconvertibleErrorCode(),
        formatv("unknown --solver '{0}': expected auto, cbc or dp",
                solverName.getValue()));
  if (!(std::isfinite(timeLimit) && timeLimit > 0))
    return createStringError(
        inconvertibleErrorCode(),
        "--time-limit must be a positive number of seconds, got " +
            formatNumber(timeLimit));
  options.timeLimitSeconds = timeLimit;
  return options;
}

/// `--model`: the model imported into the qpal dialect, its sensitivities
/// attached by `qpal-attach-sensitivity`, and the problem built from the IR
/// and solved as `qpal-allocate-bits` does.
static Expected<ModuleAllocation> allocateModel(const SolveOptions &options) {
  auto error = [](const Twine &message) -> Error {
    return createStringError(inconvertibleErrorCode(), message);
  };
  auto file = model::openModel(modelFile);
  if (!file)
    return file.takeError();
  mlir::DialectRegistry registry;
  registry.insert<QPalDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext context(registry);
  std::string message;
  auto module = driver::importModel(context, **file, /*fuse=*/false,
                                    /*palette=*/false, message);
  if (failed(module))
    return error(message);
  (**module).setSymName(sys::path::filename(modelFile));
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    diagnostics += (diagnostics.empty() ? "" : "\n") + diag.str();
    return mlir::success();
  });
  mlir::PassManager pm(&context);
  AttachSensitivityPassOptions attach;
  attach.file = sensitivityPath;
  pm.addPass(createAttachSensitivityPass(attach));
  if (failed(pm.run(**module)))
    return error(diagnostics);
  mlir::FailureOr<ModuleAllocation> allocation =
      solveModuleAllocation(**module, buildRequest(), options);
  if (failed(allocation))
    return error(diagnostics);
  return std::move(*allocation);
}

static int runAllocate() {
  if (sensitivityPath.empty())
    return fail("--sensitivity is required: a per-layer sensitivity JSON "
                "such as llama31_8b_sensitivity.json");
  // The model file's own shapes are planned for; a --shapes choice next to
  // it would be ignored.
  if (!modelFile.empty() && shapes.getNumOccurrences() > 0)
    return fail("give --model or --shapes, not both: --model plans for the "
                "model file's own layer shapes");
  if (!plotPath.empty())
    if (Error err = checkOutputFile(plotPath))
      return fail(std::move(err));
  auto options = buildSolveOptions();
  if (!options)
    return fail(options.takeError());
  std::optional<MsqProblem> problem;
  std::optional<Plan> plan;
  if (!modelFile.empty()) {
    // A model file goes through the compiler: import, attach, allocate.
    auto allocation = allocateModel(*options);
    if (!allocation)
      return fail(allocation.takeError());
    problem = std::move(allocation->problem);
    plan = std::move(allocation->plan);
  } else {
    auto built = buildProblem();
    if (!built)
      return fail(built.takeError());
    problem = std::move(*built);
    auto solved = solveMsq(*problem, *options);
    if (!solved)
      return fail(solved.takeError());
    plan = std::move(*solved);
  }

  if (!plotPath.empty())
    if (Error err = writeOutputFile(plotPath, renderPlanSvg(*plan)))
      return fail(std::move(err));
  Error written = writeOutputFile(outputPath, [&](raw_pwrite_stream &os) {
    if (!emitJson) {
      printSummary(*plan, os);
      return Error::success();
    }
    json::Value value = toJson(*plan);
    json::Object &root = *value.getAsObject();
    json::Array palette;
    for (const QuantizerSpec &quantizer : problem->palette)
      palette.push_back(quantizer.referenceName());
    root["palette"] = std::move(palette);
    root["inputs"] = json::Object{{"sensitivity", sensitivityPath.getValue()},
                                  {"distortion", problem->distortion.source()},
                                  {"fusion", !problem->fusedGroups.empty()}};
    if (problem->layerErrors)
      (*root.getObject("inputs"))["layer_errors"] =
          problem->layerErrors->source();
    os << formatv("{0:2}", value) << "\n";
    return Error::success();
  });
  if (written)
    return fail(std::move(written));
  return 0;
}

static driver::CommandRegistration registerAllocate(allocateCommand,
                                                    runAllocate);
