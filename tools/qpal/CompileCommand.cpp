//===- CompileCommand.cpp - qpal compile ----------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `qpal compile MODEL -o NAME.qpal` compiles a model ahead of time into one
// package (docs/Package.md) that `qpal-run` runs without the compiler:
//
//   import                 the model file into the qpal dialect
//   plan                   --quantizer (uniform, with a fallback for layers
//                          it cannot pack), --plan (a `qpal allocate` plan),
//                          or --budget-bits with --sensitivity (MSQ on the IR)
//   qpal-lower-model       quantize, outline the step entry points, lower the
//                          model-level ops and the packed products, bufferize
//   externalize weights    the weights leave the code for the arena
//   qpal-cpu-model-to-llvm the LLVM dialect, then a host shared object
//   package                manifest, tokenizer, code, weights
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModelOptions.h"

#include "qpal/Alloc/Inputs.h"
#include "qpal/Alloc/LatencyModel.h"
#include "qpal/Alloc/Msq.h"
#include "qpal/Alloc/Plan.h"
#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Model/ModelFile.h"
#include "qpal/Model/Tokenizer.h"
#include "qpal/Package/PackageWriter.h"
#include "qpal/Passes/Actions.h"
#include "qpal/Passes/Allocation.h"
#include "qpal/Passes/Package.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Passes/Pipelines.h"
#include "qpal/Quant/LayerCache.h"
#include "qpal/Support/Json.h"
#include "qpal/Support/OutputFile.h"
#include "qpal/Support/Progress.h"

#include "qpalpkg.h"
#include "qpaltok/Tokenizer.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/TargetParser/Host.h"

using namespace llvm;
using namespace qpal;

static constexpr const char *kCommand = "compile";
/// The version a package records.
static constexpr const char *kQPalVersion = QPAL_VERSION_STRING;

static cl::SubCommand
    compileCommand("compile",
                   "Compile a model ahead of time into one package that "
                   "`qpal-run` runs without the compiler");
static cl::opt<std::string> modelPath(cl::Positional, cl::sub(compileCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf|.safetensors>"),
                                      cl::Required);
static cl::opt<std::string> outputPath("o", cl::sub(compileCommand),
                                       cl::cat(driver::category()),
                                       cl::desc("The package to write"),
                                       cl::value_desc("NAME.qpal"),
                                       cl::Required);
static cl::opt<std::string> quantizerName(
    "quantizer", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Quantize every linear layer with this quantizer "
             "(tcq_6_none_0.9, ldlq_1_4_none_1.0, ...); layers it cannot "
             "pack take --fallback"),
    cl::value_desc("name"));
static cl::opt<std::string> fallbackName(
    "fallback", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::init("f16"),
    cl::desc("With --quantizer: the quantizer of layers it cannot pack"),
    cl::value_desc("name"));
static cl::opt<std::string>
    planPath("plan", cl::sub(compileCommand), cl::cat(driver::category()),
             cl::desc("A plan written by `qpal allocate --json` (every "
                      "layer's quantizer and the fusion of each block)"),
             cl::value_desc("plan.json"));
static cl::opt<double> budgetBits(
    "budget-bits", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Solve MSQ on the model for this memory budget (average bits "
             "per weight of the linear layers); needs --sensitivity"),
    cl::value_desc("bits"));
static cl::opt<std::string> sensitivityPath(
    "sensitivity", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("With --budget-bits: per-layer sensitivities (reference JSON, "
             "or `qpal sensitivity` output)"),
    cl::value_desc("file"));
static cl::opt<std::string> latencyTablePath(
    "latency-table", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("With --sensitivity: a latency table (`qpal allocate "
             "--latency-table` schema) for --target-tokens-per-second"),
    cl::value_desc("file"));
static cl::opt<double> targetTokensPerSecond(
    "target-tokens-per-second", cl::sub(compileCommand),
    cl::cat(driver::category()),
    cl::desc("Solve MSQ for this predicted decode speed (needs "
             "--latency-table and --sensitivity; with --budget-bits, both)"),
    cl::value_desc("tokens/s"));
static cl::opt<std::string>
    paletteName("palette", cl::sub(compileCommand), cl::cat(driver::category()),
                cl::desc("With --budget-bits: the quantizers MSQ chooses from "
                         "(as `qpal allocate --palette`)"),
                cl::value_desc("palette"));
static cl::opt<std::string> layerErrorsPath(
    "layer-errors", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("With --sensitivity: per-layer errors measured with Hessians "
             "(`qpal layer-errors` JSON) for MSQ's objective"),
    cl::value_desc("file"));
static cl::opt<std::string> lmHeadName(
    "lm-head", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Quantize the LM head with this quantizer too (default: dense "
             "f32); the plan written by --emit-plan names it `lm_head`"),
    cl::value_desc("name"));
static cl::opt<std::string> hessiansPath(
    "hessians", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Calibration statistics (`qpal calibrate`) that 'hess' "
             "quantizers round against (LDLQ)"),
    cl::value_desc("file.qpalh"));
static cl::opt<std::string> targetName("target", cl::sub(compileCommand),
                                       cl::cat(driver::category()),
                                       cl::init("cpu"),
                                       cl::desc("cpu (the host) or nvptx"),
                                       cl::value_desc("target"));
static cl::opt<std::string>
    chipName("chip", cl::sub(compileCommand), cl::cat(driver::category()),
             cl::init("sm_90"),
             cl::desc("target=nvptx: the GPU, sm_80, sm_86, sm_89 or sm_90"),
             cl::value_desc("sm_XY"));
static cl::opt<std::string>
    cpuIsa("cpu-isa", cl::sub(compileCommand), cl::cat(driver::category()),
           cl::init("host"),
           cl::desc("target=cpu: host, avx512, avx2 or generic"),
           cl::value_desc("isa"));
static cl::list<int64_t> batchSizes(
    "batches", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::CommaSeparated,
    cl::desc("Batch sizes of the entry points (default: 1,8); prefill runs "
             "in chunks of the largest"),
    cl::value_desc("n,..."));
static cl::opt<uint64_t> seed("seed", cl::sub(compileCommand),
                              cl::cat(driver::category()), cl::init(0),
                              cl::desc("Seed of the input rotations (as "
                                       "`qpal eval --seed`)"));
static cl::opt<unsigned>
    threads("threads", cl::sub(compileCommand), cl::cat(driver::category()),
            cl::init(0),
            cl::desc("Encoder and code generation threads (0: every hardware "
                     "thread; the package does not depend on it)"));
static cl::opt<std::string> emitPlanPath(
    "emit-plan", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Also write the plan compiled, as `qpal eval --plan` reads it"),
    cl::value_desc("file"));
static cl::opt<std::string> emitMlirPath(
    "emit-mlir", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Also write the lowered module (before LLVM), resources elided"),
    cl::value_desc("file"));
static cl::opt<bool> denseEmbedding(
    "dense-embedding", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Store the embedding table in f32 (by default it keeps the "
             "model file's f16, bf16, q4_0, q4_1, q5_0, q5_1 or q8_0, "
             "decoded as it is read)"));
static cl::opt<bool> gpuModelOpsOnCpu(
    "test-gpu-model-ops-on-cpu", cl::sub(compileCommand),
    cl::cat(driver::category()), cl::Hidden,
    cl::desc("Tests: a cpu package whose model ops are lowered as for "
             "nvptx (checks that lowering's numbers on the CPU)"));
static cl::opt<std::string> cudaPathOption(
    "cuda-path", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("target=nvptx: the CUDA toolkit whose libdevice the kernels' "
             "math functions link (default: $CUDA_HOME, $CUDA_PATH, "
             "$CUDA_ROOT, /usr/local/cuda, /usr/lib/cuda)"),
    cl::value_desc("dir"));
static cl::opt<std::string> emitPtxDir(
    "emit-ptx", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("target=nvptx: also write each kernel module's PTX to "
             "<dir>/<module>.ptx (the package embeds the same text)"),
    cl::value_desc("dir"));
static cl::opt<std::string> cacheDir(
    "cache-dir", cl::sub(compileCommand), cl::cat(driver::category()),
    cl::desc("Keep quantized layers here, so that compiling another plan "
             "re-encodes only the layers whose choice changed (default: "
             "$QPAL_CACHE_DIR, else $XDG_CACHE_HOME/qpal/layers, else "
             "~/.cache/qpal/layers)"),
    cl::value_desc("dir"));
static cl::opt<bool> noCache("no-cache", cl::sub(compileCommand),
                             cl::cat(driver::category()),
                             cl::desc("Encode every layer; read and write no "
                                      "layer cache"));
static cl::opt<bool> quiet("quiet", cl::sub(compileCommand),
                           cl::cat(driver::category()),
                           cl::desc("No progress lines on a terminal"));

static int fail(const Twine &message) {
  return driver::reportError(kCommand, message);
}

namespace {

/// One layer of the compiled plan.
struct PlannedLayer {
  std::string key, quantizer, group;
  int64_t weights = 0;
  double bits = 0.0;
};

/// Collects every linear layer's key, quantizer and fusion group.
std::vector<PlannedLayer> collectPlan(mlir::ModuleOp module) {
  std::vector<PlannedLayer> layers;
  mlir::SymbolTableCollection symbols;
  module.walk([&](LinearOp linear) {
    PlannedLayer layer;
    layer.key = linear.getLayerKey();
    if (layer.key.empty())
      layer.key = linear.getWeight().str();
    QuantizerAttrInterface quantizer = linear.getQuantizerAttr();
    layer.quantizer = quantizer ? quantizer.getReferenceName() : "fp32";
    layer.bits = quantizer ? quantizer.getBitsPerWeight() : 32.0;
    if (auto group = dyn_cast<FusionGroupOp>(linear->getParentOp())) {
      std::string name;
      for (LinearOp member : group.getMembers())
        name += (name.empty() ? "" : "+") + member.getLayerKey();
      layer.group = name;
    }
    if (auto shape = linear.getWeightShape(symbols); succeeded(shape))
      layer.weights = shape->first * shape->second;
    layers.push_back(std::move(layer));
  });
  return layers;
}

/// When the latency table `table` (read from `path`) records how it was
/// measured (`qpal profile` writes `measured`) and that differs from this
/// compilation (the LM head's quantizer, the host), says how.
std::optional<std::string> describeTableMismatch(const json::Value &table,
                                                 StringRef path) {
  const json::Object *root = table.getAsObject();
  const json::Object *measured = root ? root->getObject("measured") : nullptr;
  if (!measured)
    return std::nullopt;
  std::string head = lmHeadName.empty() ? "f32" : lmHeadName.getValue();
  if (std::optional<StringRef> tableHead = measured->getString("lm_head");
      tableHead && *tableHead != head)
    return formatv("latency table '{0}' was measured with LM head '{1}', "
                   "this package's is '{2}': its constant does not fit",
                   path, *tableHead, head)
        .str();
  std::string chip = sys::getHostCPUName().str();
  if (std::optional<StringRef> tableChip = measured->getString("chip");
      tableChip && *tableChip != chip)
    return formatv("latency table '{0}' was measured on '{1}', this host is "
                   "'{2}'",
                   path, *tableChip, chip)
        .str();
  return std::nullopt;
}

/// Chooses the quantizers of `module` as the options ask.
LogicalResult planModule(mlir::ModuleOp module, std::string &error) {
  mlir::MLIRContext *context = module.getContext();
  bool budgets = budgetBits.getNumOccurrences() > 0 ||
                 targetTokensPerSecond.getNumOccurrences() > 0;
  int given = !quantizerName.empty() + !planPath.empty() + budgets;
  if (given != 1) {
    error = "give exactly one of --quantizer, --plan and a budget "
            "(--budget-bits, --target-tokens-per-second)";
    return mlir::failure();
  }
  mlir::PassManager pm(context);
  if (!quantizerName.empty()) {
    pm.addPass(createLegalizeFusionPass());
    AssignQuantizerPassOptions assign;
    assign.quantizer = quantizerName;
    assign.fallback = fallbackName;
    pm.addPass(createAssignQuantizerPass(assign));
    return pm.run(module);
  }
  if (!planPath.empty()) {
    auto buffer = MemoryBuffer::getFile(planPath);
    if (!buffer) {
      error = formatv("cannot read plan '{0}': {1}", planPath.getValue(),
                      buffer.getError().message());
      return mlir::failure();
    }
    Expected<json::Value> json = qpal::parseJsonBounded(
        (*buffer)->getBuffer(),
        formatv("plan '{0}'", planPath.getValue()).str());
    if (!json) {
      error = toString(json.takeError());
      return mlir::failure();
    }
    Expected<alloc::Plan> plan = alloc::planFromJson(*json);
    if (!plan) {
      error = formatv("plan '{0}': {1}", planPath.getValue(),
                      toString(plan.takeError()));
      return mlir::failure();
    }
    return applyModuleAllocation(module, *plan);
  }
  if (sensitivityPath.empty()) {
    error = "a budget needs --sensitivity";
    return mlir::failure();
  }
  AttachSensitivityPassOptions attach;
  attach.file = sensitivityPath;
  pm.addPass(createAttachSensitivityPass(attach));
  if (failed(pm.run(module)))
    return mlir::failure();
  alloc::MsqRequest request;
  request.spelling = alloc::OptionSpelling::CommandLine;
  if (budgetBits.getNumOccurrences() > 0)
    request.budgetBits = budgetBits;
  if (targetTokensPerSecond.getNumOccurrences() > 0)
    request.tokensPerSecond = targetTokensPerSecond;
  request.latencyTable = latencyTablePath;
  request.palette = paletteName;
  request.layerErrors = layerErrorsPath;
  request.fusion = true;
  mlir::FailureOr<ModuleAllocation> allocation =
      solveModuleAllocation(module, request);
  if (failed(allocation))
    return mlir::failure();
  return applyModuleAllocation(module, allocation->plan);
}

/// The manifest of the package.
json::Object buildManifest(const model::ModelConfig &config,
                           const std::vector<PlannedLayer> &plan,
                           json::Value allocation, const WeightArena &arena,
                           ArrayRef<int64_t> batches) {
  json::Object model{{"name", config.name},
                     {"architecture", config.architecture},
                     {"vocab_size", config.vocabSize},
                     {"hidden_size", config.hiddenSize},
                     {"intermediate_size", config.intermediateSize},
                     {"layers", config.numLayers},
                     {"heads", config.numHeads},
                     {"kv_heads", config.numKvHeads},
                     {"head_dim", config.headDim},
                     {"context_length", config.contextLength},
                     {"rope_theta", config.ropeTheta},
                     {"rms_epsilon", config.rmsNormEps},
                     {"tied_embeddings", config.tiedEmbeddings}};
  json::Array entries;
  for (int64_t batch : batches)
    entries.push_back(json::Object{
        {"symbol", formatv("_mlir_ciface_qpal_step_b{0}", batch).str()},
        {"batch", batch}});
  json::Array layers;
  double bits = 0.0;
  int64_t weights = 0;
  for (const PlannedLayer &layer : plan) {
    json::Object entry{{"layer", layer.key}, {"quantizer", layer.quantizer}};
    if (!layer.group.empty())
      entry["group"] = layer.group;
    layers.push_back(std::move(entry));
    bits += layer.bits * static_cast<double>(layer.weights);
    weights += layer.weights;
  }
  json::Array weightTable;
  for (const WeightArena::Entry &entry : arena.entries)
    weightTable.push_back(json::Object{{"name", entry.name},
                                       {"offset", int64_t(entry.offset)},
                                       {"bytes", int64_t(entry.size)}});
  bool gpu = targetName == "nvptx";
  std::string chip = gpu ? chipName.getValue() : sys::getHostCPUName().str();
  return json::Object{
      {"format_version", 1},
      {"qpal_version", kQPalVersion},
      {"target", targetName.getValue()},
      {"chip", chip},
      {"model", std::move(model)},
      {"kv_cache", json::Object{{"planes", 2 * config.numLayers},
                                {"width", config.numKvHeads * config.headDim}}},
      {"entry_points", std::move(entries)},
      {"bits_per_weight", weights > 0 ? bits / double(weights) : 0.0},
      {"plan", std::move(layers)},
      {"allocation", std::move(allocation)},
      {"weights", std::move(weightTable)}};
}

/// Writes `text` to `path` atomically.
LogicalResult writeText(StringRef path, StringRef text, std::string &error) {
  if (Error err = writeOutputFile(path, text)) {
    error = toString(std::move(err));
    return mlir::failure();
  }
  return mlir::success();
}

} // namespace

static int runCompile() {
  if (targetName != "cpu" && targetName != "nvptx")
    return fail(formatv("unknown --target '{0}': expected cpu or nvptx",
                        targetName.getValue()));
  const bool gpu = targetName == "nvptx";
  if (gpu && !llvm::is_contained(
                 ArrayRef<StringRef>{"sm_80", "sm_86", "sm_89", "sm_90"},
                 chipName.getValue()))
    return fail(formatv("unknown --chip '{0}': expected sm_80, sm_86, sm_89 "
                        "or sm_90",
                        chipName.getValue()));
  if (!emitPtxDir.empty() && !gpu)
    return fail("--emit-ptx needs --target nvptx");
  if (!cudaPathOption.empty() && !gpu)
    return fail("--cuda-path needs --target nvptx");
  std::string cudaPath;
  if (gpu) {
    Expected<std::string> toolkit =
        findCudaToolkitWithLibdevice(cudaPathOption);
    if (!toolkit)
      return fail(toString(toolkit.takeError()));
    cudaPath = *toolkit;
  }
  std::vector<int64_t> batches(batchSizes.begin(), batchSizes.end());
  if (batches.empty())
    batches = {1, 8};
  llvm::sort(batches);
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  if (batches.front() <= 0 || batches.back() > 64)
    return fail("--batches must lie in [1, 64]");
  if (batches.front() != 1)
    batches.insert(batches.begin(), 1);
  // Compiling takes minutes: an unwritable -o is found before, not after.
  if (Error err = checkOutputFile(outputPath))
    return fail(toString(std::move(err)));

  ProgressLine progress("qpal compile", quiet);
  progress.step(formatv("reading {0}", modelPath.getValue()).str());
  auto file = model::openModel(modelPath);
  if (!file)
    return fail(toString(file.takeError()));
  const model::ModelConfig &config = (*file)->getConfig();
  auto tokenizer = model::loadTokenizer(**file);
  if (!tokenizer)
    return fail(formatv("the package needs the model's tokenizer: {0}",
                        toString(tokenizer.takeError())));

  mlir::DialectRegistry registry;
  registry.insert<QPalDialect>();
  registerModelLoweringDependencies(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Messages name the op; a printout of the whole module helps no one.
  context.printOpOnDiagnostic(false);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Remark)
      return mlir::success();
    diagnostics += (diagnostics.empty() ? "" : "\n") + diag.str();
    for (mlir::Diagnostic &note : diag.getNotes())
      diagnostics += "\n  note: " + note.str();
    return mlir::success();
  });
  auto failWith = [&](StringRef what, StringRef detail) {
    return fail(detail.empty() ? what : (what + ": " + detail).str());
  };

  std::string message;
  bool fuse = !quantizerName.empty();
  auto module = driver::importModel(context, **file, fuse,
                                    /*palette=*/false, message);
  if (failed(module))
    return fail(message);
  mlir::ModuleOp root = **module;

  progress.step("choosing the quantizers");
  std::string planError;
  if (failed(planModule(root, planError)))
    return failWith("cannot plan the model",
                    planError.empty() ? diagnostics : planError);
  if (!lmHeadName.empty()) {
    mlir::PassManager pm(&context);
    AssignLmHeadPassOptions head;
    head.quantizer = lmHeadName;
    pm.addPass(createAssignLmHeadPass(head));
    if (failed(pm.run(root)))
      return failWith("cannot quantize the LM head", diagnostics);
  }
  std::vector<PlannedLayer> plan = collectPlan(root);
  // The plan as the planner sees it (the manifest records it, so that
  // `qpal profile` and people can price it) and, with a latency table, its
  // predicted decode speed.
  json::Value allocation = nullptr;
  {
    mlir::FailureOr<alloc::Plan> planned = readModuleAllocation(root);
    if (failed(planned))
      return failWith("cannot read the plan back from the module", diagnostics);
    // The model as its file states it (name, vocabulary), the shapes
    // being the ones the IR gives.
    auto model = driver::getPlannerModel(
        config,
        config.name.empty() ? sys::path::stem(modelPath).str() : config.name);
    if (!model)
      return fail(toString(model.takeError()));
    planned->model = std::move(*model);
    if (!latencyTablePath.empty()) {
      // One read of the table: its entries, and how it was measured.
      Expected<json::Value> json = alloc::readJsonFile(latencyTablePath);
      if (!json)
        return fail(toString(json.takeError()));
      auto table = alloc::LatencyTable::fromJson(*json, latencyTablePath);
      if (!table)
        return fail(toString(table.takeError()));
      if (std::optional<std::string> mismatch =
              describeTableMismatch(*json, latencyTablePath))
        driver::reportWarning(kCommand, *mismatch);
      Expected<double> seconds =
          alloc::predictSecondsPerToken(*planned, **table);
      if (seconds) {
        planned->secondsPerToken = *seconds;
        planned->latencyModel = (*table)->describe();
        progress.step(formatv("predicted decode: {0:f1} tokens/s under {1}",
                              1.0 / *seconds, planned->latencyModel)
                          .str());
      } else {
        driver::reportWarning(kCommand, "no predicted speed: " +
                                            toString(seconds.takeError()));
      }
    }
    allocation = alloc::toJson(*planned);
  }
  if (!emitPlanPath.empty()) {
    json::Object layers;
    for (const PlannedLayer &layer : plan)
      if (layer.quantizer != "fp32")
        layers[layer.key] = layer.quantizer;
    std::string text;
    raw_string_ostream os(text);
    os << formatv("{0:2}",
                  json::Value(json::Object{{"plan", std::move(layers)}}))
       << "\n";
    if (failed(writeText(emitPlanPath, text, planError)))
      return fail(planError);
  }

  progress.step(formatv("quantizing {0} linear layers and lowering the model",
                        plan.size())
                    .str());
  {
    // The layers, as qpal-quantize-weights reports them (an MLIR action
    // each): done/total, and the one being quantized.
    if (progress.isShown())
      context.registerActionHandler([&](function_ref<void()> transform,
                                        const mlir::tracing::Action &action) {
        auto *layer = dyn_cast<QuantizeLayerAction>(&action);
        if (layer)
          progress.update(layer->index, layer->total, "layers",
                          layer->name + " with " + layer->quantizer);
        transform();
        if (layer && layer->index + 1 == layer->total)
          progress.update(layer->total, layer->total, "layers");
      });
    mlir::PassManager pm(&context);
    LowerModelOptions options;
    options.model = modelPath;
    options.seed = seed;
    options.threads = threads;
    options.hessians = hessiansPath;
    if (!noCache)
      options.cache = cacheDir.empty() ? LayerCache::getDefaultDirectory()
                                       : cacheDir.getValue();
    options.batches = batches;
    options.cpuIsa = cpuIsa;
    if (gpu) {
      options.target = KernelTarget::Nvptx;
      options.chip = chipName;
    }
    options.gpuModelOpsOnCpu = gpuModelOpsOnCpu && !gpu;
    options.denseEmbedding = denseEmbedding;
    buildLowerModelPipeline(pm, options);
    mlir::LogicalResult lowered = pm.run(root);
    context.registerActionHandler(nullptr);
    progress.finish();
    if (failed(lowered))
      return failWith("cannot lower the model", diagnostics);
  }
  mlir::FailureOr<WeightArena> arena = externalizeWeights(root);
  if (failed(arena))
    return failWith("cannot lay out the weights", diagnostics);
  if (!emitMlirPath.empty()) {
    std::string text;
    raw_string_ostream os(text);
    mlir::OpPrintingFlags flags;
    flags.elideLargeResourceString(64);
    flags.elideLargeElementsAttrs(16);
    root.print(os, flags);
    if (failed(writeText(emitMlirPath, text, planError)))
      return fail(planError);
  }

  progress.step(gpu ? formatv("compiling the kernels to PTX for {0} and "
                              "the host side to a shared object",
                              chipName.getValue())
                          .str()
                    : "compiling to a host shared object");
  {
    mlir::PassManager pm(&context);
    if (gpu)
      buildGpuModelToLLVMPipeline(pm, chipName, cudaPath);
    else
      buildCpuModelToLLVMPipeline(pm);
    if (failed(pm.run(root)))
      return failWith("cannot lower the model to LLVM", diagnostics);
  }
  // Each kernel module's PTX, checked: a driver would refuse PTX that calls
  // a function it does not define.
  std::vector<std::pair<std::string, std::string>> ptxModules;
  for (auto binary : root.getOps<mlir::gpu::BinaryOp>()) {
    Expected<std::string> ptx = extractPtx(root, binary.getSymName());
    if (!ptx)
      return fail(toString(ptx.takeError()));
    std::vector<std::string> undefined = getUndefinedPtxFunctions(*ptx);
    if (!undefined.empty())
      return fail(formatv("the PTX of {0} calls functions it does not "
                          "define: {1} (libdevice from {2} was not linked)",
                          binary.getSymName(), join(undefined, ", "),
                          cudaPath));
    ptxModules.emplace_back(binary.getSymName().str(), std::move(*ptx));
  }
  if (!emitPtxDir.empty()) {
    if (std::error_code ec = sys::fs::create_directories(emitPtxDir))
      return fail(formatv("cannot create '{0}': {1}", emitPtxDir.getValue(),
                          ec.message()));
    for (const auto &[name, ptx] : ptxModules) {
      SmallString<256> path(emitPtxDir.getValue());
      sys::path::append(path, name + ".ptx");
      if (failed(writeText(path, ptx, planError)))
        return fail(planError);
    }
  }
  Expected<std::vector<char>> code = emitHostSharedObject(root, threads);
  if (!code)
    return fail(toString(code.takeError()));

  progress.step("writing the package");
  std::string vocabulary =
      qpaltok::serializeVocabulary((*tokenizer)->getVocabulary());
  std::string manifest;
  {
    raw_string_ostream os(manifest);
    os << formatv("{0:2}",
                  json::Value(buildManifest(config, plan, std::move(allocation),
                                            *arena, batches)))
       << "\n";
  }
  std::vector<package::Section> sections = {
      {"manifest", ArrayRef<char>(manifest.data(), manifest.size())},
      {"tokenizer", ArrayRef<char>(vocabulary.data(), vocabulary.size())},
      {gpu ? "code.nvptx" : "code.cpu", ArrayRef<char>(*code)},
      {"weights", ArrayRef<char>(arena->bytes)}};
  if (Error err = package::writePackage(outputPath, sections))
    return fail(toString(std::move(err)));
  uint64_t total = 0;
  for (const package::Section &section : sections)
    total += section.bytes.size();
  progress.step(formatv("wrote {0} ({1:f1} MB)", outputPath.getValue(),
                        double(total) / 1e6)
                    .str());
  return 0;
}

static driver::CommandRegistration registration(compileCommand, runCompile);
