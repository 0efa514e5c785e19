//===- ProfileCommand.cpp - qpal profile ----------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `qpal profile MODEL --target cpu -o costs.json` measures qpal's own cost
// model for latency-constrained MSQ (`qpal allocate --latency-table`, `qpal
// compile --latency-table`):
//
//   entries   every (fusion group, palette quantizer, kernel kind) at the
//             model's shapes: one `qpal.dequant_matmul` at batch 1 (the
//             input rotation and the dequant-matmul kernel on the thread
//             pool), lowered by the passes `qpal compile` runs and linked
//             into one shared object with the pool every package links.
//             Groups of one shape share a measurement.
//   constant  with --package: the package's measured decode step (as
//             `qpal-run --bench` times it) minus the entries of its plan:
//             attention, norms, RoPE, residuals, the LM head and whatever
//             else a step does besides its quantized products.
//
// Timing: the packed codes and row scales of successive calls come from a
// 128 MiB random arena, so a call reads its weights from beyond the core's
// caches as a decode step does (a step streams every layer once); rounds
// interleave every probe; an entry is the median of its rounds, and
// `spread` records (max - min) / median.
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
#include "qpal/Passes/Passes.h"
#include "qpal/Passes/Pipelines.h"
#include "qpal/Quant/Codebooks.h"
#include "qpal/Support/Json.h"
#include "qpal/Support/OutputFile.h"
#include "qpal/Support/Progress.h"

#include "qpalrt.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <set>

using namespace llvm;
using namespace qpal;

static constexpr StringLiteral kCommand = "profile";

static cl::SubCommand
    profileCommand("profile",
                   "Measure the latency table of qpal's own kernels and "
                   "packages (`qpal allocate --latency-table` schema)");
static cl::opt<std::string> modelPath(cl::Positional, cl::sub(profileCommand),
                                      cl::cat(driver::category()),
                                      cl::desc("<model.gguf|.safetensors>"),
                                      cl::Required);
static cl::opt<std::string> outputPath("o", cl::sub(profileCommand),
                                       cl::cat(driver::category()),
                                       cl::desc("The latency table to write"),
                                       cl::value_desc("costs.json"),
                                       cl::Required);
static cl::opt<std::string> targetName("target", cl::sub(profileCommand),
                                       cl::cat(driver::category()),
                                       cl::init("cpu"),
                                       cl::desc("cpu (the host)"),
                                       cl::value_desc("target"));
static cl::opt<unsigned>
    threads("threads", cl::sub(profileCommand), cl::cat(driver::category()),
            cl::init(0),
            cl::desc("Threads of the kernels and the package, as `qpal-run "
                     "--threads` will run them (0: one per core)"));
static cl::opt<std::string> paletteName(
    "palette", cl::sub(profileCommand), cl::cat(driver::category()),
    cl::init("reference-latency-simt"),
    cl::desc("The quantizers to time: a palette name (as `qpal allocate "
             "--palette`) or comma-separated names; SQ/VQ members with a "
             "`:simt` twin are timed with both kernels"),
    cl::value_desc("palette"));
static cl::list<std::string>
    groupNames("groups", cl::sub(profileCommand), cl::cat(driver::category()),
               cl::CommaSeparated,
               cl::desc("Fusion groups to time (default: all of q, k, v, o, "
                        "u, g, d, qk, kv, qv, qkv, ug)"),
               cl::value_desc("g,..."));
static cl::opt<std::string> packagePath(
    "package", cl::sub(profileCommand), cl::cat(driver::category()),
    cl::desc("A package of this model (`qpal compile`): its measured decode "
             "step minus its plan's entries is the table's constant (the "
             "attention, norms, LM head, ...); without it the constant is 0"),
    cl::value_desc("NAME.qpal"));
static cl::opt<unsigned> rounds("rounds", cl::sub(profileCommand),
                                cl::cat(driver::category()), cl::init(9),
                                cl::desc("Interleaved timing rounds; an entry "
                                         "is the median of its rounds"));
static cl::opt<int64_t> promptTokens(
    "prompt-tokens", cl::sub(profileCommand), cl::cat(driver::category()),
    cl::init(128),
    cl::desc("--package: prompt tokens before the timed decode steps (as "
             "`qpal-run --bench`)"));
static cl::opt<int64_t> decodeTokens(
    "decode-tokens", cl::sub(profileCommand), cl::cat(driver::category()),
    cl::init(64),
    cl::desc("--package: timed decode steps per round (as `qpal-run "
             "--bench`)"));
static cl::opt<std::string>
    cpuIsa("cpu-isa", cl::sub(profileCommand), cl::cat(driver::category()),
           cl::init("host"),
           cl::desc("host, avx512, avx2 or generic (as `qpal compile`)"),
           cl::value_desc("isa"));
static cl::opt<uint64_t> seed("seed", cl::sub(profileCommand),
                              cl::cat(driver::category()), cl::init(1),
                              cl::desc("Seed of the random codes and inputs"));
static cl::opt<bool> quiet("quiet", cl::sub(profileCommand),
                           cl::cat(driver::category()),
                           cl::desc("No progress lines on a terminal"));

namespace {

using Clock = std::chrono::steady_clock;

/// The bytes the packed codes and scales of successive calls rotate over.
constexpr uint64_t kArenaBytes = uint64_t(128) << 20;
/// Time one sample should take.
constexpr double kSampleSeconds = 1e-3;

/// `void probe(x, codes, scales, signs, codebook, y)`, bare pointers.
using ProbeFn = void (*)(const float *, const uint8_t *, const float *,
                         const float *, const float *, float *);

/// One measured product: a quantizer and kernel kind at one weight shape,
/// standing for every group of that shape.
struct Probe {
  QuantizerSpec quantizer;
  alloc::LayerShape shape;
  std::vector<alloc::FusionGroup> groups;
  std::string symbol;
  int64_t codeBytes = 0;
  std::vector<float> codebook;
  ProbeFn function = nullptr;
  int64_t callsPerSample = 1;
  std::vector<double> samples;
};

int fail(const Twine &message) {
  return driver::reportError(kCommand, message);
}

Error makeError(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// The probes of `palette` at the shapes of `groups`; `skipped` collects the
/// (group, quantizer) pairs whose layout cannot hold the shape.
std::vector<Probe> planProbes(const alloc::ModelConfig &model,
                              ArrayRef<alloc::FusionGroup> groups,
                              ArrayRef<QuantizerSpec> palette,
                              json::Array &skipped) {
  std::vector<Probe> probes;
  std::map<std::pair<int64_t, int64_t>, std::vector<alloc::FusionGroup>>
      byShape;
  for (alloc::FusionGroup group : groups) {
    alloc::LayerShape shape = model.shape(group);
    byShape[{shape.rows, shape.cols}].push_back(group);
  }
  // A `hess` quantizer runs its data-free twin's kernel (the table prices
  // both with one entry): each kernel is timed once.
  std::vector<QuantizerSpec> kernels;
  for (QuantizerSpec quantizer : palette) {
    quantizer.hessian = false;
    if (quantizer.family != QuantizerFamily::F16 &&
        !llvm::is_contained(kernels, quantizer))
      kernels.push_back(quantizer);
  }
  for (const QuantizerSpec &quantizer : kernels) {
    for (const auto &[dims, members] : byShape) {
      if (std::optional<std::string> why =
              quantizer.checkShape(dims.first, dims.second)) {
        for (alloc::FusionGroup group : members)
          skipped.push_back(
              json::Object{{"group", alloc::fusionGroupName(group)},
                           {"quantizer", quantizer.referenceName()},
                           {"why", *why}});
        continue;
      }
      Probe probe;
      probe.quantizer = quantizer;
      probe.shape = {dims.first, dims.second};
      probe.groups = members;
      probe.symbol = formatv("qpal_probe_{0}", probes.size()).str();
      probes.push_back(std::move(probe));
    }
  }
  return probes;
}

/// Builds one function per probe, `qpal.dequant_matmul` on its buffers,
/// lowers them as `qpal compile` lowers a model's products (kernel calls on
/// the thread pool), and links them into a shared object.
Expected<std::vector<char>> compileProbes(std::vector<Probe> &probes) {
  mlir::DialectRegistry registry;
  registry.insert<QPalDialect>();
  registerModelLoweringDependencies(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      diagnostics += (diagnostics.empty() ? "" : "\n") + diag.str();
    return mlir::success();
  });
  mlir::OpBuilder builder(&context);
  mlir::Location loc = builder.getUnknownLoc();
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  for (Probe &probe : probes) {
    QuantizerAttrInterface quantizer =
        getQuantizerAttr(&context, probe.quantizer);
    auto packed = PackedWeightType::get(&context, probe.shape.rows,
                                        probe.shape.cols, quantizer);
    probe.codeBytes = packed.getCodeBytes();
    KernelShape shape{quantizer, probe.shape.rows, probe.shape.cols, 1};
    mlir::func::FuncOp function =
        buildDequantMatmulFunction(builder, loc, probe.symbol, shape);
    function->setAttr(kBarePtrAttrName, builder.getUnitAttr());
  }
  mlir::PassManager pm(&context);
  LowerToKernelsPassOptions lower;
  lower.target = KernelTarget::Cpu;
  lower.cpuIsa = cpuIsa;
  lower.cpuParallel = true;
  pm.addPass(createLowerToKernelsPass(lower));
  pm.addPass(createOutlineParallelLoopsPass());
  buildCpuModelToLLVMPipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return makeError("cannot lower the probes" +
                     (diagnostics.empty() ? "" : ": " + diagnostics));
  return emitHostSharedObject(*module);
}

/// A shared object loaded from bytes (through a temporary file, removed
/// once loaded). Like every package's code it stays mapped.
Expected<void *> loadSharedObject(ArrayRef<char> bytes) {
  SmallString<128> path;
  int fd;
  if (std::error_code error =
          sys::fs::createTemporaryFile("qpal-profile", "so", fd, path))
    return makeError("cannot create a temporary file: " + error.message());
  llvm::scope_exit remove([&] { sys::fs::remove(path); });
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(bytes.data(), bytes.size());
    if (os.has_error())
      return makeError(formatv("cannot write '{0}'", path));
  }
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError(formatv("cannot load the probes: {0}", dlerror()));
  return handle;
}

/// Times the probes in `rounds` interleaved rounds.
void timeProbes(std::vector<Probe> &probes, ProgressLine &progress) {
  std::mt19937_64 random(seed);
  std::vector<uint8_t> arena(kArenaBytes);
  for (size_t i = 0; i < arena.size(); i += 8) {
    uint64_t word = random();
    std::memcpy(&arena[i], &word, std::min<size_t>(8, arena.size() - i));
  }
  std::uniform_real_distribution<float> scale(0.5f, 1.5f);
  std::normal_distribution<float> normal;
  std::vector<float> scaleArena(size_t(1) << 21);
  for (float &value : scaleArena)
    value = scale(random) * 1e-3f;
  int64_t maxRows = 0, maxCols = 0;
  for (const Probe &probe : probes) {
    maxRows = std::max(maxRows, probe.shape.rows);
    maxCols = std::max(maxCols, probe.shape.cols);
  }
  std::vector<float> x(static_cast<size_t>(maxCols)),
      signs(static_cast<size_t>(maxCols)), y(static_cast<size_t>(maxRows));
  for (float &value : x)
    value = normal(random);
  for (float &value : signs)
    value = random() & 1 ? 1.0f : -1.0f;

  // Where call `i` of `probe` reads its codes and scales.
  auto run = [&](Probe &probe, int64_t calls, uint64_t &cursor) {
    uint64_t stride = alignTo(uint64_t(probe.codeBytes), 64);
    uint64_t slots = std::max<uint64_t>(1, kArenaBytes / stride);
    uint64_t scaleSlots = std::max<uint64_t>(
        1, scaleArena.size() / uint64_t(alignTo(probe.shape.rows, 16)));
    for (int64_t call = 0; call < calls; ++call, ++cursor) {
      const uint8_t *codes = arena.data() + (cursor % slots) * stride;
      const float *scales =
          scaleArena.data() +
          (cursor % scaleSlots) * uint64_t(alignTo(probe.shape.rows, 16));
      probe.function(x.data(), codes, scales, signs.data(),
                     probe.codebook.data(), y.data());
    }
  };
  uint64_t cursor = 0;
  // Warm-up: a few calls each, to size the samples.
  for (Probe &probe : probes) {
    run(probe, 2, cursor);
    Clock::time_point start = Clock::now();
    run(probe, 4, cursor);
    double perCall =
        std::chrono::duration<double>(Clock::now() - start).count() / 4;
    probe.callsPerSample = std::clamp<int64_t>(
        int64_t(kSampleSeconds / std::max(perCall, 1e-9)), 1, 4096);
  }
  int64_t total = int64_t(rounds) * int64_t(probes.size()), done = 0;
  for (unsigned round = 0; round < rounds; ++round) {
    // Each round starts at another probe, so that no probe always follows
    // the same one.
    size_t first = (size_t(round) * 7919) % probes.size();
    for (size_t i = 0; i < probes.size(); ++i) {
      Probe &probe = probes[(first + i) % probes.size()];
      Clock::time_point start = Clock::now();
      run(probe, probe.callsPerSample, cursor);
      double seconds =
          std::chrono::duration<double>(Clock::now() - start).count() /
          double(probe.callsPerSample);
      probe.samples.push_back(seconds);
      progress.update(++done, total, "samples");
    }
  }
}

/// Status to error.
Error check(qpalrtStatus status) {
  if (status == QPALRT_SUCCESS)
    return Error::success();
  return makeError(qpalrtGetLastError());
}

/// The package of --package, opened and checked before anything is timed.
class StepPackage {
public:
  ~StepPackage() { qpalrtClosePackage(package); }

  /// Opens the package at `path`, reads its plan and checks that it holds
  /// `model` and has room for the timed positions.
  static Expected<std::unique_ptr<StepPackage>>
  open(StringRef path, const alloc::ModelConfig &model);

  /// The plan's dense layers, which the constant includes.
  std::vector<std::string> dense;
  /// The LM head's quantizer, or "f32".
  std::string lmHead = "f32";
  /// Decode seconds per token, one per round.
  std::vector<double> samples;

  /// Seconds of the plan's packed products under `table`.
  Expected<double> priceProducts(const alloc::LatencyTable &table);
  /// Times the decode steps as `qpal-run --bench` does: a prompt, then
  /// the steps, `rounds` times after a warm-up.
  Error measure();

private:
  StepPackage() = default;
  std::string path;
  qpalrtPackage *package = nullptr;
  qpalrtModelInfo info;
  alloc::Plan plan;
};

Expected<std::unique_ptr<StepPackage>>
StepPackage::open(StringRef path, const alloc::ModelConfig &model) {
  std::unique_ptr<StepPackage> result(new StepPackage());
  result->path = path.str();
  if (Error err =
          check(qpalrtOpenPackage(path.str().c_str(), &result->package)))
    return std::move(err);
  if (Error err = check(qpalrtGetModelInfo(result->package, &result->info)))
    return std::move(err);
  const void *data = nullptr;
  size_t bytes = 0;
  if (Error err = check(
          qpalrtGetPackageSection(result->package, "manifest", &data, &bytes)))
    return std::move(err);
  Expected<json::Value> manifest =
      parseJsonBounded(StringRef(static_cast<const char *>(data), bytes),
                       formatv("the manifest of '{0}'", path).str());
  if (!manifest)
    return manifest.takeError();
  const json::Object *root = manifest->getAsObject();
  const json::Value *recorded = root ? root->get("allocation") : nullptr;
  if (!recorded)
    return makeError(formatv("package '{0}' records no allocation (it was "
                             "compiled by an older qpal): compile it again",
                             path));
  Expected<alloc::Plan> plan = alloc::planFromJson(*recorded);
  if (!plan)
    return makeError(
        formatv("package '{0}': {1}", path, toString(plan.takeError())));
  const alloc::ModelConfig &other = plan->model;
  if (other.hiddenSize != model.hiddenSize ||
      other.intermediateSize != model.intermediateSize ||
      other.numBlocks != model.numBlocks ||
      other.numHeads * other.headDim != model.numHeads * model.headDim ||
      other.numKvHeads * other.headDim != model.numKvHeads * model.headDim)
    return makeError(formatv("package '{0}' holds another model ({1} blocks "
                             "of width {2}; the model has {3} of {4})",
                             path, other.numBlocks, other.hiddenSize,
                             model.numBlocks, model.hiddenSize));
  result->plan = std::move(*plan);
  if (const json::Array *layers = root->getArray("plan"))
    for (const json::Value &layer : *layers)
      if (const json::Object *entry = layer.getAsObject())
        if (entry->getString("layer") == StringRef("lm_head"))
          if (std::optional<StringRef> name = entry->getString("quantizer"))
            result->lmHead = name->str();
  int64_t positions = promptTokens + decodeTokens;
  if (positions > result->info.contextLength)
    return makeError(formatv("--prompt-tokens {0} and --decode-tokens {1} do "
                             "not fit the model's {2} positions",
                             promptTokens.getValue(), decodeTokens.getValue(),
                             result->info.contextLength));
  return result;
}

Expected<double> StepPackage::priceProducts(const alloc::LatencyTable &table) {
  double seconds = 0;
  dense.clear();
  for (unsigned b = 0; b < plan.blocks.size(); ++b)
    for (alloc::FusionGroup group : plan.blocks[b].groups) {
      const QuantizerSpec &quantizer =
          plan.blocks[b].quantizer(alloc::fusionGroupMembers(group).front());
      if (quantizer.family == QuantizerFamily::F16) {
        for (alloc::Projection member : alloc::fusionGroupMembers(group))
          dense.push_back(alloc::layerKey(b, member));
        continue;
      }
      Expected<double> entry = table.groupSeconds(
          group, plan.model.shape(group), quantizer, quantizer.kernel);
      if (!entry)
        return makeError(formatv("cannot price the plan of package '{0}': "
                                 "{1}",
                                 path, toString(entry.takeError())));
      seconds += *entry;
    }
  return seconds;
}

Error StepPackage::measure() {
  if (Error err = check(qpalrtSetThreads(package, int(threads))))
    return err;
  qpalrtSession *session = nullptr;
  if (Error err = check(
          qpalrtCreateSession(package, promptTokens + decodeTokens, &session)))
    return err;
  llvm::scope_exit destroy([&] { qpalrtDestroySession(session); });
  std::vector<int32_t> prompt(static_cast<size_t>(promptTokens));
  for (int64_t i = 0; i < promptTokens; ++i)
    prompt[size_t(i)] = int32_t((1 + 31 * i) % info.vocabSize);
  std::vector<float> logits(static_cast<size_t>(info.vocabSize));
  for (unsigned round = 0; round <= rounds; ++round) {
    if (Error err = check(qpalrtSessionReset(session)))
      return err;
    if (Error err = check(qpalrtSessionRun(session, prompt.data(), promptTokens,
                                           logits.data(), 1)))
      return err;
    Clock::time_point start = Clock::now();
    for (int64_t i = 0; i < decodeTokens; ++i) {
      int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) -
                             logits.begin());
      if (Error err =
              check(qpalrtSessionRun(session, &next, 1, logits.data(), 1)))
        return err;
    }
    if (round > 0) // the first is the warm-up
      samples.push_back(
          std::chrono::duration<double>(Clock::now() - start).count() /
          double(decodeTokens));
  }
  return Error::success();
}

} // namespace

static int runProfile() {
  if (targetName != "cpu")
    return fail(formatv("--target '{0}': qpal profile measures the host (cpu) "
                        "only; a GPU table has the same schema (the "
                        "reference's RTX 4090 table, or --roofline)",
                        targetName.getValue()));
  if (rounds < 1 || rounds > 1000)
    return fail("--rounds must lie in [1, 1000]");
  if (Error err = checkOutputFile(outputPath))
    return fail(toString(std::move(err)));
  ProgressLine progress("qpal profile", quiet);
  auto file = model::openModel(modelPath);
  if (!file)
    return fail(toString(file.takeError()));
  const model::ModelConfig &config = (*file)->getConfig();
  auto model = driver::getPlannerModel(
      config,
      config.name.empty() ? sys::path::stem(modelPath).str() : config.name);
  if (!model)
    return fail(toString(model.takeError()));

  if (promptTokens < 1 || decodeTokens < 1)
    return fail("--prompt-tokens and --decode-tokens must be positive");
  std::unique_ptr<StepPackage> package;
  if (!packagePath.empty()) {
    auto opened = StepPackage::open(packagePath, *model);
    if (!opened)
      return fail(toString(opened.takeError()));
    package = std::move(*opened);
  }

  std::vector<alloc::FusionGroup> groups;
  if (groupNames.empty())
    groups.assign(alloc::kAllFusionGroups.begin(),
                  alloc::kAllFusionGroups.end());
  for (const std::string &name : groupNames) {
    auto group = alloc::parseFusionGroup(name);
    if (!group)
      return fail(formatv("--groups: {0}", toString(group.takeError())));
    if (!llvm::is_contained(groups, *group))
      groups.push_back(*group);
  }
  auto palette = alloc::parsePalette(paletteName);
  if (!palette)
    return fail(formatv("--palette: {0}", toString(palette.takeError())));
  json::Array skipped;
  std::vector<Probe> probes = planProbes(*model, groups, *palette, skipped);
  if (probes.empty())
    return fail(formatv("no packed quantizer of --palette '{0}' can store "
                        "any of the model's groups (f16 layers are dense "
                        "products: --package times them in the constant)",
                        paletteName.getValue()));

  std::set<std::pair<int64_t, int64_t>> shapes;
  std::set<std::string> pairs;
  for (const Probe &probe : probes) {
    shapes.insert({probe.shape.rows, probe.shape.cols});
    pairs.insert(probe.quantizer.referenceName());
  }
  progress.step(formatv("compiling {0} products ({1} quantizer-kernel "
                        "pair{2} at {3} weight shape{4})",
                        probes.size(), pairs.size(),
                        pairs.size() == 1 ? "" : "s", shapes.size(),
                        shapes.size() == 1 ? "" : "s")
                    .str());
  Expected<std::vector<char>> code = compileProbes(probes);
  if (!code)
    return fail(toString(code.takeError()));
  Expected<void *> handle = loadSharedObject(*code);
  if (!handle)
    return fail(toString(handle.takeError()));
  if (auto setThreads =
          reinterpret_cast<void (*)(int)>(dlsym(*handle, "qpal_set_threads")))
    setThreads(int(threads));
  for (Probe &probe : probes) {
    probe.function =
        reinterpret_cast<ProbeFn>(dlsym(*handle, probe.symbol.c_str()));
    if (!probe.function)
      return fail(formatv("the probes lack '{0}'", probe.symbol));
    Expected<ArrayRef<float>> codebook = kernelCodebookValues(probe.quantizer);
    if (!codebook)
      return fail(toString(codebook.takeError()));
    probe.codebook.assign(codebook->begin(), codebook->end());
  }

  progress.step(formatv("timing {0} products, {1} rounds", probes.size(),
                        rounds.getValue())
                    .str());
  timeProbes(probes, progress);
  progress.finish();

  // The entries (the constant is set once --package has been timed), and
  // (max - min) / median of each.
  alloc::LatencyTable table(outputPath, 0.0);
  std::map<std::string, std::map<std::string, json::Object>> spreads;
  for (const Probe &probe : probes) {
    double seconds = median(probe.samples);
    auto [low, high] =
        std::minmax_element(probe.samples.begin(), probe.samples.end());
    QuantizerSpec key = probe.quantizer;
    key.kernel = KernelKind::TensorCore;
    for (alloc::FusionGroup group : probe.groups) {
      table.set(group, probe.quantizer, probe.quantizer.kernel, seconds);
      table.setGroupShape(group, probe.shape);
      spreads[alloc::fusionGroupName(group).str()][key.referenceName()]
             [probe.quantizer.kernel == KernelKind::Simt ? "SIMT" : "TC"] =
                 (*high - *low) / seconds;
    }
  }
  json::Object spread;
  for (auto &[group, entries] : spreads) {
    json::Object byQuantizer;
    for (auto &[quantizer, byKind] : entries)
      byQuantizer[quantizer] = std::move(byKind);
    spread[group] = std::move(byQuantizer);
  }

  std::string chip = sys::getHostCPUName().str();
  json::Object measured{{"target", "cpu"},
                        {"chip", chip},
                        {"cpu_isa", cpuIsa.getValue()},
                        {"threads", int64_t(threads)},
                        {"rounds", int64_t(rounds)},
                        {"arena_bytes", int64_t(kArenaBytes)},
                        {"model", model->name}};
  double constant = 0;
  if (package) {
    progress.step(
        formatv("timing the decode steps of {0}", packagePath.getValue())
            .str());
    Expected<double> products = package->priceProducts(table);
    if (!products)
      return fail(toString(products.takeError()));
    if (Error err = package->measure())
      return fail(toString(std::move(err)));
    double step = median(package->samples);
    // The rest of the step; a table's constant is never negative (readers
    // refuse one), so products priced above the whole step leave 0.
    constant = std::max(0.0, step - *products);
    if (step < *products)
      driver::reportWarning(
          kCommand,
          formatv("the products of '{0}' priced at {1:f3} ms exceed its "
                  "measured step of {2:f3} ms: the constant is 0, and the "
                  "entries overprice this package",
                  packagePath.getValue(), *products * 1e3, step * 1e3));
    json::Array samples;
    for (double sample : package->samples)
      samples.push_back(sample);
    measured["package"] = sys::path::filename(packagePath).str();
    measured["lm_head"] = package->lmHead;
    measured["prompt_tokens"] = int64_t(promptTokens);
    measured["decode_tokens"] = int64_t(decodeTokens);
    measured["step_seconds"] = step;
    measured["step_seconds_samples"] = std::move(samples);
    measured["products_seconds"] = *products;
    if (!package->dense.empty()) {
      json::Array dense;
      for (const std::string &layer : package->dense)
        dense.push_back(layer);
      measured["dense_layers_in_constant"] = std::move(dense);
    }
  } else {
    driver::reportWarning(kCommand,
                          "no --package: the constant is 0, so predictions "
                          "count the quantized products only");
  }
  table.setConstantSeconds(constant);
  table.setDescription(
      formatv("qpal profile of {0} on {1} ({2} threads): one "
              "dequant_matmul at batch 1 per entry, median of {3} "
              "interleaved rounds{4}",
              model->name, chip,
              threads == 0 ? std::string("all")
                           : std::to_string(threads.getValue()),
              rounds.getValue(),
              packagePath.empty() ? std::string(", no constant")
                                  : formatv("; constant from {0}",
                                            sys::path::filename(packagePath))
                                        .str())
          .str());
  json::Value root = table.toJson();
  json::Object *object = root.getAsObject();
  (*object)["measured"] = std::move(measured);
  (*object)["spread"] = std::move(spread);
  if (!skipped.empty())
    (*object)["unpackable"] = std::move(skipped);
  std::string text;
  raw_string_ostream os(text);
  os << formatv("{0:2}", root) << "\n";
  if (Error err = writeOutputFile(outputPath, text))
    return fail(toString(std::move(err)));
  size_t entries = 0;
  for (const Probe &probe : probes)
    entries += probe.groups.size();
  progress.step(formatv("wrote {0}: {1} entries from {2} products, constant "
                        "{3:f3} ms",
                        outputPath.getValue(), entries, probes.size(),
                        constant * 1e3)
                    .str());
  return 0;
}

static driver::CommandRegistration registration(profileCommand, runProfile);
