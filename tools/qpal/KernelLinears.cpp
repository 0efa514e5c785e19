//===- KernelLinears.cpp - Block linears through generated CPU kernels ----===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "KernelLinears.h"

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Quant/Codebooks.h"
#include "qpal/Quant/Hadamard.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

using namespace llvm;
using namespace qpal;
using namespace qpal::driver;

namespace {

/// The most activation rows one kernel call takes (the kernels' limit).
constexpr int64_t kMaxKernelBatch = 64;

using KernelFn = void (*)(const float *, const uint8_t *, const float *,
                          const float *, float *, int64_t *);
using RotateFn = void (*)(const float *, const float *, const float *, float *,
                          float *, int64_t *);

/// The JIT-compiled kernels of one (quantizer, M, K, batch): the activation
/// rotation and the dequant-matmul, and the number of row groups of the
/// latter's range.
struct CompiledKernel {
  RotateFn rotate = nullptr;
  KernelFn function = nullptr;
  int64_t batch = 0;
  int64_t groups = 0;
};

/// One quantized layer, ready for its kernels.
struct LayerData {
  QuantizedLayer layer;
  std::vector<float> codebook; // fp16 values widened
  std::vector<float> scales;
  std::vector<float> hadamard; // the K x K matrix of the rotation
  CompiledKernel fullBatch;    // the kernels of kMaxKernelBatch rows
};

} // namespace

struct KernelLinears::Impl {
  Impl(model::QuantPlan plan, uint64_t seed, unsigned threads)
      : plan(std::move(plan)), seed(seed), threads(threads),
        context(makeRegistry()) {
    context.loadAllAvailableDialects();
  }

  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    registerKernelLoweringDependencies(registry);
    return registry;
  }

  /// The kernel of `spec` for an M x K weight and `batch` activation rows,
  /// compiled on first use.
  Expected<CompiledKernel> getKernel(const QuantizerSpec &spec, int64_t rows,
                                     int64_t cols, int64_t batch);

  /// The layer's products for n activation rows.
  void run(const LayerData &data, const float *x, int64_t ldx, float *y,
           int64_t ldy, int64_t n);

  model::QuantPlan plan;
  uint64_t seed;
  unsigned threads;

  std::mutex mutex; // the context, the caches and the stats
  mlir::MLIRContext context;
  StringMap<std::unique_ptr<mlir::ExecutionEngine>> engines;
  StringMap<CompiledKernel> kernels;
  KernelLinearsStats stats;
};

Expected<CompiledKernel>
KernelLinears::Impl::getKernel(const QuantizerSpec &spec, int64_t rows,
                               int64_t cols, int64_t batch) {
  std::lock_guard<std::mutex> lock(mutex);
  KernelShape shape{getQuantizerAttr(&context, spec), rows, cols, batch};
  std::string name = getKernelName(shape, "cpu");
  auto found = kernels.find(name);
  if (found != kernels.end())
    return found->second;
  auto start = std::chrono::steady_clock::now();
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    diagnostics += diag.str();
    return mlir::success();
  });
  // The layer's product as the compiler sees it after qpal-convert-to-buffers
  // (one qpal.dequant_matmul on the packed weight's buffers), lowered by
  // qpal-lower-to-kernels and qpal-cpu-kernels-to-llvm like any other.
  mlir::Location loc = mlir::UnknownLoc::get(&context);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(loc);
  mlir::OpBuilder builder(&context);
  builder.setInsertionPointToEnd(module->getBody());
  auto packed =
      PackedWeightType::getChecked([&] { return mlir::emitError(loc); },
                                   &context, rows, cols, shape.quantizer);
  if (!packed)
    return createStringError(
        formatv("cannot generate the kernel {0}: {1}", name, diagnostics));
  mlir::Type f32 = builder.getF32Type();
  auto function = mlir::func::FuncOp::create(
      builder, loc, "qpal_linear",
      builder.getFunctionType(
          {mlir::MemRefType::get({batch, cols}, f32),
           mlir::MemRefType::get({packed.getCodeBytes()}, builder.getI8Type()),
           mlir::MemRefType::get({rows}, f32),
           mlir::MemRefType::get({cols}, f32),
           mlir::MemRefType::get({packed.getCodebookValues()}, f32),
           mlir::MemRefType::get({batch, rows}, f32)},
          {}));
  mlir::Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  DequantMatmulOp::create(builder, loc, entry->getArgument(0),
                          entry->getArgument(1), entry->getArgument(2),
                          entry->getArgument(3), entry->getArgument(4),
                          entry->getArgument(5), shape.quantizer);
  mlir::func::ReturnOp::create(builder, loc);
  mlir::PassManager pm(&context);
  LowerToKernelsPassOptions lowering;
  lowering.target = KernelTarget::Cpu;
  lowering.batch = batch;
  lowering.cpuIsa = "host";
  pm.addPass(createLowerToKernelsPass(lowering));
  buildCpuKernelsToLLVMPipeline(pm);
  if (failed(pm.run(*module)))
    return createStringError(
        formatv("cannot generate the kernel {0}: {1}", name, diagnostics));
  Expected<std::unique_ptr<mlir::ExecutionEngine>> engine =
      jitCpuKernels(*module);
  if (!engine)
    return engine.takeError();
  Expected<void *> symbol = (*engine)->lookup(name);
  if (!symbol)
    return symbol.takeError();
  Expected<void *> rotation =
      (*engine)->lookup(getRotationKernelName(cols, batch, "cpu"));
  if (!rotation)
    return rotation.takeError();
  CompiledKernel kernel{reinterpret_cast<RotateFn>(*rotation),
                        reinterpret_cast<KernelFn>(*symbol), batch,
                        rows / getKernelRowGroup(shape)};
  engines[name] = std::move(*engine);
  kernels[name] = kernel;
  ++stats.kernelsCompiled;
  stats.compileSeconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return kernel;
}

void KernelLinears::Impl::run(const LayerData &data, const float *x,
                              int64_t ldx, float *y, int64_t ldy, int64_t n) {
  const QuantizedLayer &layer = data.layer;
  const int64_t rows = layer.rows, cols = layer.cols;
  unsigned workers = threads ? threads : std::thread::hardware_concurrency();
  std::vector<float> input, scratch, rotated, tile;
  for (int64_t first = 0; first < n; first += kMaxKernelBatch) {
    int64_t batch = std::min(kMaxKernelBatch, n - first);
    // Full batches use the layer's own kernels; only a last, shorter batch
    // looks them up (compiled the first time). The layer's shape compiled at
    // batch 64 when it was provided; another batch failing is a code
    // generation bug.
    Expected<CompiledKernel> kernel =
        batch == kMaxKernelBatch ? Expected<CompiledKernel>(data.fullBatch)
                                 : getKernel(layer.spec, rows, cols, batch);
    if (!kernel)
      report_fatal_error(Twine("qpal: ") + toString(kernel.takeError()));
    // The kernels take rotated activations: the generated rotation kernel
    // computes RHT(signs * x) for the batch's rows, split over the workers.
    input.resize(batch * cols);
    for (int64_t t = 0; t < batch; ++t)
      std::copy_n(x + (first + t) * ldx, cols, input.data() + t * cols);
    // The rotation kernel writes every element of both.
    scratch.resize(batch * cols);
    rotated.resize(batch * cols);
    unsigned rowParts =
        std::max<unsigned>(1, std::min<int64_t>(workers, batch));
    parallelFor(0, rowParts, [&](size_t part) {
      int64_t range[2] = {batch * int64_t(part) / rowParts,
                          batch * (int64_t(part) + 1) / rowParts};
      kernel->rotate(input.data(), layer.signs.data(), data.hadamard.data(),
                     scratch.data(), rotated.data(), range);
    });
    tile.assign(batch * rows, 0.0f);
    int64_t groups = kernel->groups;
    unsigned parts = std::max<unsigned>(1, std::min<int64_t>(workers, groups));
    parallelFor(0, parts, [&](size_t part) {
      int64_t range[2] = {groups * int64_t(part) / parts,
                          groups * (int64_t(part) + 1) / parts};
      kernel->function(rotated.data(), layer.codes.data(), data.codebook.data(),
                       data.scales.data(), tile.data(), range);
    });
    for (int64_t t = 0; t < batch; ++t)
      std::copy_n(tile.data() + t * rows, rows, y + (first + t) * ldy);
  }
}

KernelLinears::KernelLinears(model::QuantPlan plan, uint64_t seed,
                             unsigned threads)
    : impl(std::make_shared<Impl>(std::move(plan), seed, threads)) {}

KernelLinears::~KernelLinears() = default;

KernelLinearsStats KernelLinears::getStats() const {
  std::lock_guard<std::mutex> lock(impl->mutex);
  return impl->stats;
}

model::LinearProvider KernelLinears::getProvider() {
  std::shared_ptr<Impl> state = impl;
  return [state](StringRef layerKey, int64_t rows, int64_t cols,
                 ArrayRef<float> weight) -> Expected<model::LinearFunction> {
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      ++state->stats.layers;
    }
    Expected<QuantizerSpec> spec = state->plan.lookup(layerKey);
    if (!spec)
      return spec.takeError();
    if (spec->family == QuantizerFamily::F16)
      return model::LinearFunction(); // the evaluator's matmul
    Expected<QuantizedLayer> layer =
        model::quantizeBlockLinear(state->plan, state->seed, state->threads,
                                   layerKey, weight.data(), rows, cols);
    if (!layer)
      return layer.takeError();
    if (!layer->rotated)
      return createStringError(formatv(
          "layer '{0}' was quantized without its input rotation", layerKey));
    Expected<HadamardFactors> factors = factorHadamardSize(cols);
    if (!factors)
      return factors.takeError();
    Expected<ArrayRef<int8_t>> hadamard = hadamardMatrix(factors->smallOrder);
    if (!hadamard)
      return hadamard.takeError();
    Expected<ArrayRef<float>> codebook = kernelCodebookValues(*spec);
    if (!codebook)
      return codebook.takeError();
    auto data = std::make_shared<LayerData>(
        LayerData{std::move(*layer),
                  {},
                  {},
                  std::vector<float>(hadamard->begin(), hadamard->end()),
                  {}});
    data->codebook.assign(codebook->begin(), codebook->end());
    for (int64_t row = 0; row < rows; ++row)
      data->scales.push_back(data->layer.scale(row));
    // Compile the full-batch kernel now: a shape no kernel takes is an
    // error here, at load time.
    Expected<CompiledKernel> kernel =
        state->getKernel(*spec, rows, cols, kMaxKernelBatch);
    if (!kernel)
      return kernel.takeError();
    data->fullBatch = *kernel;
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      ++state->stats.kernelLayers;
    }
    return model::LinearFunction(
        [state, data](const float *x, int64_t ldx, float *y, int64_t ldy,
                      int64_t n) { state->run(*data, x, ldx, y, ldy, n); });
  };
}
