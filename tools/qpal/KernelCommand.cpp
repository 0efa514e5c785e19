//===- KernelCommand.cpp - `qpal kernel`
//-----------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Emits one dequant-matmul kernel (PTX, cubin, host object or MLIR) and, on
// request, runs it on seeded random data against lib/Quant's reference
// decode (float64 matmul) and measures it.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/KernelCase.h"

#include "qpalrt.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

using namespace llvm;
using namespace qpal;

static cl::SubCommand
    kernelCommand("kernel",
                  "Emit, run, check and time one dequant-matmul kernel");
static cl::opt<std::string>
    quantizerName("quantizer", cl::sub(kernelCommand),
                  cl::cat(driver::category()),
                  cl::desc("Quantizer, by reference name (tcq_6_none_0.9)"));
static cl::opt<int64_t> rows("rows", cl::sub(kernelCommand), cl::init(0),
                             cl::cat(driver::category()),
                             cl::desc("M: output features (not with "
                                      "--rotation)"));
static cl::opt<int64_t> cols("cols", cl::sub(kernelCommand), cl::Required,
                             cl::cat(driver::category()),
                             cl::desc("K: input features"));
static cl::opt<int64_t> batch("batch", cl::sub(kernelCommand), cl::init(1),
                              cl::cat(driver::category()),
                              cl::desc("N: activation rows per call"));
static cl::opt<std::string> target("target", cl::sub(kernelCommand),
                                   cl::init("cpu"), cl::cat(driver::category()),
                                   cl::desc("cpu or nvptx"));
static cl::opt<std::string> chip("chip", cl::sub(kernelCommand),
                                 cl::init("sm_90"), cl::cat(driver::category()),
                                 cl::desc("GPU for nvptx: sm_80 .. sm_90"));
static cl::opt<unsigned> smCount("sm-count", cl::sub(kernelCommand),
                                 cl::init(0), cl::cat(driver::category()),
                                 cl::desc("SMs of the GPU (0: the chip's)"));
static cl::opt<bool>
    gpuMma("gpu-mma", cl::sub(kernelCommand), cl::init(true),
           cl::cat(driver::category()),
           cl::desc("nvptx, tensor-core layouts, batch <= 32: accumulate with "
                    "mma.sync (false: CUDA-core FMAs, for comparison)"));
static cl::opt<unsigned>
    gpuUnroll("gpu-unroll", cl::sub(kernelCommand), cl::init(0),
              cl::cat(driver::category()),
              cl::desc("nvptx: supertiles a warp decodes per iteration (0: the "
                       "compiler's choice)"));
static cl::opt<bool> gpuPacked(
    "gpu-packed", cl::sub(kernelCommand), cl::init(true),
    cl::cat(driver::category()),
    cl::desc("nvptx, mma.sync: look pairs up in the quantizer's packed f16x2 "
             "table (false: the f32 codebook, for comparison)"));
static cl::opt<unsigned> gpuBlocksPerSm(
    "gpu-blocks-per-sm", cl::sub(kernelCommand), cl::init(0),
    cl::cat(driver::category()),
    cl::desc("nvptx: blocks per SM the grid aims at (0: the compiler's "
             "choice)"));
static cl::opt<unsigned> gpuPackedReplicas(
    "gpu-packed-replicas", cl::sub(kernelCommand), cl::init(0),
    cl::cat(driver::category()),
    cl::desc("nvptx: copies of the packed pair table (a power of 2; 0: as "
             "many as fit, up to 32)"));
static cl::opt<bool> gpuVectorSegments(
    "gpu-vector-segments", cl::sub(kernelCommand), cl::init(true),
    cl::cat(driver::category()),
    cl::desc("nvptx: read each lane's codes with 8/16-byte vector loads "
             "(false: 4-byte word loads, for comparison)"));
static cl::opt<std::string> cpuDecode(
    "cpu-decode", cl::sub(kernelCommand), cl::init("auto"),
    cl::cat(driver::category()),
    cl::desc("cpu, tensor-core layouts: vector (the 32 lanes of a supertile "
             "at once), lanes (lane by lane) or auto (the faster for the "
             "quantizer)"));
static cl::opt<bool> cpuPacked(
    "cpu-packed", cl::sub(kernelCommand), cl::init(true),
    cl::cat(driver::category()),
    cl::desc("cpu, vector decode: one gather per weight pair from the "
             "quantizer's fp16 pair table (false: two from the f32 "
             "codebook, for comparison)"));
static cl::opt<std::string> cpuIsa(
    "cpu-isa", cl::sub(kernelCommand), cl::init("host"),
    cl::cat(driver::category()),
    cl::desc("cpu: instruction-set extensions the kernel names itself: "
             "host, avx512 or avx2 (permute lookups of small codebooks) or "
             "generic"));
static cl::opt<std::string> loadPath(
    "load", cl::sub(kernelCommand), cl::cat(driver::category()),
    cl::desc("cpu: instead of compiling, load the kernel from this shared "
             "object (from `-o k.o`, linked with -shared) through the "
             "runtime and run it (implies --run)"),
    cl::value_desc("file.so"));
static cl::opt<unsigned> cpuDealtSegments(
    "cpu-dealt-segments", cl::sub(kernelCommand), cl::init(3), cl::Hidden,
    cl::cat(driver::category()),
    cl::desc("cpu, vector decode: segments per lane dealt from the "
             "supertile's load (fewer: the others are gathered; for tests)"));
static cl::opt<bool> rotation(
    "rotation", cl::sub(kernelCommand), cl::cat(driver::category()),
    cl::desc("Emit the activation rotation kernel y = RHT(s * x) of --cols "
             "columns and --batch rows instead of a dequant-matmul"));
static cl::opt<std::string>
    outputPath("o", cl::sub(kernelCommand), cl::cat(driver::category()),
               cl::desc("Output file: .ptx, .cubin (nvptx), .o (cpu) or "
                        ".mlir"),
               cl::value_desc("file"));
static cl::opt<bool> emitMlir("emit-mlir", cl::sub(kernelCommand),
                              cl::cat(driver::category()),
                              cl::desc("Print the kernel before lowering"));
static cl::opt<bool> run("run", cl::sub(kernelCommand),
                         cl::cat(driver::category()),
                         cl::desc("Run the kernel on seeded random data"));
static cl::opt<bool> check("check", cl::sub(kernelCommand),
                           cl::cat(driver::category()),
                           cl::desc("Compare with the reference (implies "
                                    "--run)"));
static cl::opt<bool> bench("bench", cl::sub(kernelCommand),
                           cl::cat(driver::category()),
                           cl::desc("Time the kernel (implies --run)"));
static cl::opt<bool> emitJson("json", cl::sub(kernelCommand),
                              cl::cat(driver::category()),
                              cl::desc("Print the results as JSON"));
static cl::opt<uint64_t> seed("seed", cl::sub(kernelCommand), cl::init(1),
                              cl::cat(driver::category()),
                              cl::desc("Seed of the random data"));
static cl::opt<unsigned> threads("threads", cl::sub(kernelCommand), cl::init(0),
                                 cl::cat(driver::category()),
                                 cl::desc("CPU threads (0: all)"));
static cl::opt<unsigned> iterations("iterations", cl::sub(kernelCommand),
                                    cl::init(0), cl::cat(driver::category()),
                                    cl::desc("Timed calls for --bench (0: "
                                             "about 0.5 s worth)"));

static constexpr StringLiteral kCommand = "kernel";

namespace {

/// Threads that run one task per call, each with its index; the caller
/// runs index 0. Idle workers spin (yielding) on a generation counter, so a
/// call starts in microseconds.
class WorkerPool {
public:
  explicit WorkerPool(unsigned size) : size(size) {
    for (unsigned t = 1; t < size; ++t)
      threads.emplace_back([this, t] {
        uint64_t seen = 0;
        while (true) {
          uint64_t now;
          while ((now = generation.load(std::memory_order_acquire)) == seen)
            std::this_thread::yield();
          seen = now;
          if (stopping.load(std::memory_order_acquire))
            return;
          (*task)(t);
          pending.fetch_sub(1, std::memory_order_acq_rel);
        }
      });
  }
  ~WorkerPool() {
    stopping.store(true, std::memory_order_release);
    generation.fetch_add(1, std::memory_order_acq_rel);
    for (std::thread &thread : threads)
      thread.join();
  }
  void run(function_ref<void(unsigned)> work) {
    task = &work;
    pending.store(size - 1, std::memory_order_release);
    generation.fetch_add(1, std::memory_order_acq_rel);
    work(0);
    while (pending.load(std::memory_order_acquire) != 0)
      std::this_thread::yield();
  }

private:
  unsigned size;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> generation{0};
  std::atomic<unsigned> pending{0};
  std::atomic<bool> stopping{false};
  function_ref<void(unsigned)> *task = nullptr;
};

/// The seeded case of the command line's kernel, with its reference.
Expected<KernelCase> makeData(const QuantizerSpec &spec) {
  return makeKernelCase(spec, rows, cols, batch, seed, /*withReference=*/true,
                        threads);
}

/// Copy bandwidth of this machine (GB/s), STREAM-style: 2 x 256 MiB.
double measureCopyBandwidth(unsigned workers) {
  size_t count = size_t{64} << 20;
  std::vector<float> a(count, 1.0f), b(count, 0.0f);
  double best = 0;
  for (int repeat = 0; repeat < 3; ++repeat) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < workers; ++t)
      pool.emplace_back([&, t] {
        size_t lo = count * t / workers, hi = count * (t + 1) / workers;
        std::memcpy(&b[lo], &a[lo], (hi - lo) * sizeof(float));
      });
    for (std::thread &worker : pool)
      worker.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    best = std::max(best, 2.0 * count * sizeof(float) / seconds / 1e9);
  }
  return best;
}

/// Writes `text` to `path` through a temporary file.
Error writeFile(StringRef path, StringRef text) {
  std::error_code error;
  ToolOutputFile output(path, error, sys::fs::OF_None);
  if (error)
    return createStringError(error, "cannot open '%s': %s", path.str().c_str(),
                             error.message().c_str());
  output.os() << text;
  output.keep();
  return Error::success();
}

/// Assembles PTX into a cubin at `path` with ptxas.
Error assembleCubin(StringRef ptx, StringRef chipName, StringRef path) {
  ErrorOr<std::string> ptxas = sys::findProgramByName("ptxas");
  if (!ptxas)
    ptxas = sys::findProgramByName("ptxas", {"/usr/local/cuda/bin"});
  if (!ptxas)
    return createStringError(inconvertibleErrorCode(),
                             "ptxas was not found on PATH or in "
                             "/usr/local/cuda/bin; write .ptx instead");
  SmallString<128> ptxFile;
  if (std::error_code error =
          sys::fs::createTemporaryFile("qpal-kernel", "ptx", ptxFile))
    return createStringError(error, "cannot create a temporary file");
  llvm::scope_exit removeTemp([&] { sys::fs::remove(ptxFile); });
  if (Error err = writeFile(ptxFile, ptx))
    return err;
  std::string arch = ("-arch=" + chipName).str();
  std::string output = (path + ".part").str();
  std::string message;
  int code =
      sys::ExecuteAndWait(*ptxas, {*ptxas, arch, ptxFile.str(), "-o", output},
                          std::nullopt, {}, 0, 0, &message);
  if (code != 0) {
    sys::fs::remove(output);
    return createStringError(inconvertibleErrorCode(),
                             "ptxas rejected the kernel (exit %d) %s", code,
                             message.c_str());
  }
  if (std::error_code error = sys::fs::rename(output, path))
    return createStringError(error, "cannot write '%s'", path.str().c_str());
  return Error::success();
}

/// Results that go to the table or the JSON object.
struct Report {
  json::Object fields;
  std::vector<std::string> lines;
};

/// Calls a CPU kernel and its dequantization twin over all row groups:
/// in-process (JitCaller) or through the runtime (RuntimeCaller).
class CpuCaller {
public:
  virtual ~CpuCaller() = default;
  /// Worker threads the calls use.
  virtual unsigned getThreads() const = 0;
  /// y += the kernel's product (y holds N x M values).
  virtual Error matmul(const KernelCase &data, std::vector<float> &y) = 0;
  /// Writes the decoded weights (M x K) to `weights`.
  virtual Error dequant(const KernelCase &data,
                        std::vector<float> &weights) = 0;
  /// Runs the kernel `calls` times; returns the seconds they took.
  virtual Expected<double> time(const KernelCase &data, unsigned calls) = 0;
  /// Releases the workers (before the copy-bandwidth measurement).
  virtual void release() {}
};

using KernelFn = void (*)(const float *, const uint8_t *, const float *,
                          const float *, float *, int64_t *);
using DequantFn = void (*)(const uint8_t *, const float *, float *, int64_t *);

/// The kernels of a JIT-compiled module on this command's threads.
class JitCaller final : public CpuCaller {
public:
  JitCaller(KernelFn kernel, DequantFn dequantKernel, int64_t groups,
            unsigned workers)
      : kernel(kernel), dequantKernel(dequantKernel), groups(groups),
        workers(workers) {
    // Workers persist across calls, as in a runtime: starting threads per
    // call cost ~60 us, more than a small layer's kernel.
    pool.emplace(workers);
  }
  unsigned getThreads() const override { return workers; }
  Error matmul(const KernelCase &data, std::vector<float> &y) override {
    parallelCall([&](int64_t *range) {
      kernel(data.x.data(), data.codes.data(), data.codebook.data(),
             data.scales.data(), y.data(), range);
    });
    return Error::success();
  }
  Error dequant(const KernelCase &data, std::vector<float> &weights) override {
    parallelCall([&](int64_t *range) {
      dequantKernel(data.codes.data(), data.codebook.data(), weights.data(),
                    range);
    });
    return Error::success();
  }
  Expected<double> time(const KernelCase &data, unsigned calls) override {
    std::vector<float> y = data.y0;
    auto start = std::chrono::steady_clock::now();
    for (unsigned i = 0; i < calls; ++i)
      if (Error err = matmul(data, y))
        return std::move(err);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  }
  void release() override { pool.reset(); }

private:
  template <typename Call> void parallelCall(Call &&call) {
    pool->run([&](unsigned t) {
      int64_t range[2] = {groups * t / workers, groups * (t + 1) / workers};
      call(range);
    });
  }

  KernelFn kernel;
  DequantFn dequantKernel;
  int64_t groups;
  unsigned workers;
  std::optional<WorkerPool> pool;
};

/// The kernels of a compiled shared object, loaded and launched by the
/// runtime (qpalrtLaunchRange).
class RuntimeCaller final : public CpuCaller {
public:
  ~RuntimeCaller() override {
    if (context)
      qpalrtDestroyContext(context);
  }
  /// Loads `path` and looks up `name` and its twin `dequantName`.
  Error load(StringRef path, StringRef name, StringRef dequantName,
             const KernelCase &data, int64_t groups, unsigned workers) {
    this->groups = groups;
    this->workers = workers;
    if (qpalrtCreateContext(QPALRT_DEVICE_CPU, 0, &context) != QPALRT_SUCCESS)
      return fail("cannot create a CPU context");
    if (qpalrtLoadModule(context, path.str().c_str(), &module) !=
            QPALRT_SUCCESS ||
        qpalrtGetFunction(module, name.str().c_str(), &kernel) !=
            QPALRT_SUCCESS ||
        qpalrtGetFunction(module, dequantName.str().c_str(), &dequantKernel) !=
            QPALRT_SUCCESS)
      return fail("cannot load the kernel");
    auto upload = [&](const void *bytes, size_t size,
                      qpalrtBuffer *&buffer) -> bool {
      return qpalrtAlloc(context, size, &buffer) == QPALRT_SUCCESS &&
             qpalrtUpload(buffer, bytes, size, 0) == QPALRT_SUCCESS;
    };
    if (!upload(data.x.data(), data.x.size() * 4, x) ||
        !upload(data.codes.data(), data.codes.size(), codes) ||
        !upload(data.codebook.data(), data.codebook.size() * 4, codebook) ||
        !upload(data.scales.data(), data.scales.size() * 4, scales) ||
        !upload(data.y0.data(), data.y0.size() * 4, y) ||
        qpalrtAlloc(context, data.decoded.size() * 4, &weights) !=
            QPALRT_SUCCESS)
      return fail("cannot upload the data");
    return Error::success();
  }
  unsigned getThreads() const override { return workers; }
  Error matmul(const KernelCase &data, std::vector<float> &result) override {
    if (qpalrtUpload(y, result.data(), result.size() * 4, 0) !=
            QPALRT_SUCCESS ||
        launch() != QPALRT_SUCCESS ||
        qpalrtDownload(y, result.data(), result.size() * 4, 0) !=
            QPALRT_SUCCESS)
      return fail("the kernel failed");
    return Error::success();
  }
  Error dequant(const KernelCase &data, std::vector<float> &result) override {
    qpalrtBuffer *buffers[] = {codes, codebook, weights};
    if (qpalrtLaunchRange(dequantKernel, buffers, 3, groups, int(workers)) !=
            QPALRT_SUCCESS ||
        qpalrtDownload(weights, result.data(), result.size() * 4, 0) !=
            QPALRT_SUCCESS)
      return fail("the dequantization kernel failed");
    return Error::success();
  }
  Expected<double> time(const KernelCase &data, unsigned calls) override {
    auto start = std::chrono::steady_clock::now();
    for (unsigned i = 0; i < calls; ++i)
      if (launch() != QPALRT_SUCCESS)
        return fail("the kernel failed");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  }

private:
  static Error fail(StringRef what) {
    return createStringError(inconvertibleErrorCode(), "%s: %s",
                             what.str().c_str(), qpalrtGetLastError());
  }
  qpalrtStatus launch() {
    qpalrtBuffer *buffers[] = {x, codes, codebook, scales, y};
    return qpalrtLaunchRange(kernel, buffers, 5, groups, int(workers));
  }

  int64_t groups = 0;
  unsigned workers = 1;
  qpalrtContext *context = nullptr;
  qpalrtModule *module = nullptr;
  qpalrtFunction *kernel = nullptr, *dequantKernel = nullptr;
  qpalrtBuffer *x = nullptr, *codes = nullptr, *codebook = nullptr,
               *scales = nullptr, *y = nullptr, *weights = nullptr;
};

/// Checks (and with --bench times) a CPU kernel through `caller` on `data`.
Error checkAndTimeCpu(const KernelShape &shape, const KernelCase &data,
                      CpuCaller &caller, Report &report) {
  QuantizerSpec spec = shape.quantizer.getSpec();
  std::vector<float> y = data.y0;
  if (Error err = caller.matmul(data, y))
    return err;
  std::vector<float> weights(rows * cols, std::nanf(""));
  if (Error err = caller.dequant(data, weights))
    return err;
  int64_t mismatches = 0;
  for (size_t i = 0; i < weights.size(); ++i)
    mismatches +=
        std::memcmp(&weights[i], &data.decoded[i], sizeof(float)) != 0;
  double error = maxRelativeError(data, y);
  report.fields["max_rel_err"] = error;
  report.fields["decode_mismatches"] = mismatches;
  report.lines.push_back(formatv("max relative error {0:e2} against the "
                                 "float64 reference; decode: {1} of {2} "
                                 "weights differ from lib/Quant",
                                 error, mismatches, weights.size()));
  if (!bench)
    return Error::success();
  Expected<double> once = caller.time(data, 1);
  if (!once)
    return once.takeError();
  unsigned calls = iterations;
  if (calls == 0)
    calls = std::clamp<unsigned>(static_cast<unsigned>(0.5 / *once), 3, 1000);
  Expected<double> total = caller.time(data, calls);
  if (!total)
    return total.takeError();
  double seconds = *total / calls;
  double bytes = spec.storageBytes(rows, cols);
  double gbps = bytes / seconds / 1e9;
  unsigned workers = caller.getThreads();
  caller.release(); // spinning workers would slow the copy
  double stream = measureCopyBandwidth(workers);
  report.fields["microseconds"] = seconds * 1e6;
  report.fields["gbps"] = gbps;
  report.fields["stream_gbps"] = stream;
  report.fields["fraction_of_bandwidth"] = gbps / stream;
  report.fields["threads"] = static_cast<int64_t>(workers);
  report.lines.push_back(formatv(
      "{0:f1} us per call on {1} threads: {2:f2} GB/s of weights, {3:p} of "
      "the measured copy bandwidth ({4:f1} GB/s)",
      seconds * 1e6, workers, gbps, gbps / stream, stream));
  return Error::success();
}

/// The seeded data of `shape` and the thread count and row groups its CPU
/// kernel is called with.
struct CpuRun {
  KernelCase data;
  int64_t groups;
  unsigned workers;
};

Expected<CpuRun> prepareCpuRun(const KernelShape &shape) {
  Expected<KernelCase> made = makeData(shape.quantizer.getSpec());
  if (!made)
    return made.takeError();
  unsigned workers = threads ? threads : std::thread::hardware_concurrency();
  int64_t groups = rows / getKernelRowGroup(shape);
  workers = std::max<unsigned>(1, std::min<int64_t>(workers, groups));
  return CpuRun{std::move(*made), groups, workers};
}

/// Runs the CPU kernel of `module` (lowered already) over all row groups,
/// JIT-compiled in this process.
Error runCpu(mlir::ModuleOp module, const KernelShape &shape, Report &report) {
  Expected<std::unique_ptr<mlir::ExecutionEngine>> engine =
      jitCpuKernels(module);
  if (!engine)
    return engine.takeError();
  std::string name = getKernelName(shape, "cpu");
  std::string dequantName = getCpuDequantKernelName(shape);
  auto kernel = (*engine)->lookup(name);
  if (!kernel)
    return kernel.takeError();
  auto dequant = (*engine)->lookup(dequantName);
  if (!dequant)
    return dequant.takeError();
  Expected<CpuRun> run = prepareCpuRun(shape);
  if (!run)
    return run.takeError();
  JitCaller caller(reinterpret_cast<KernelFn>(*kernel),
                   reinterpret_cast<DequantFn>(*dequant), run->groups,
                   run->workers);
  return checkAndTimeCpu(shape, run->data, caller, report);
}

/// Runs the CPU kernel of `shape` from the shared object `path` (compiled by
/// `qpal kernel -o FILE.o` and linked with `-shared`) through the runtime.
Error runCpuObject(StringRef path, const KernelShape &shape, Report &report) {
  std::string name = getKernelName(shape, "cpu");
  std::string dequantName = getCpuDequantKernelName(shape);
  Expected<CpuRun> run = prepareCpuRun(shape);
  if (!run)
    return run.takeError();
  RuntimeCaller caller;
  if (Error err = caller.load(path, name, dequantName, run->data, run->groups,
                              run->workers))
    return err;
  report.fields["loaded"] = path.str();
  return checkAndTimeCpu(shape, run->data, caller, report);
}

/// Runs the PTX kernel on a CUDA device through the runtime.
Error runGpu(StringRef ptx, const KernelShape &shape, const GpuLaunch &launch,
             StringRef name, Report &report) {
  auto fail = [](StringRef what) {
    return createStringError(inconvertibleErrorCode(), "%s: %s",
                             what.str().c_str(), qpalrtGetLastError());
  };
  qpalrtContext *context = nullptr;
  if (qpalrtCreateContext(QPALRT_DEVICE_CUDA, 0, &context) != QPALRT_SUCCESS)
    return fail("cannot run on a GPU");
  llvm::scope_exit destroy([&] { qpalrtDestroyContext(context); });
  qpalrtModule *module = nullptr;
  if (qpalrtLoadModuleData(context, ptx.data(), ptx.size(),
                           QPALRT_MODULE_FORMAT_PTX, &module) != QPALRT_SUCCESS)
    return fail("cannot load the PTX");
  qpalrtFunction *function = nullptr;
  if (qpalrtGetFunction(module, name.str().c_str(), &function) !=
      QPALRT_SUCCESS)
    return fail("cannot find the kernel");
  QuantizerSpec spec = shape.quantizer.getSpec();
  Expected<KernelCase> made = makeData(spec);
  if (!made)
    return made.takeError();
  KernelCase &data = *made;
  struct HostArg {
    const void *data;
    size_t bytes;
  } hostArgs[] = {{data.x.data(), data.x.size() * 4},
                  {data.codes.data(), data.codes.size()},
                  {data.codebook.data(), data.codebook.size() * 4},
                  {data.scales.data(), data.scales.size() * 4},
                  {data.y0.data(), data.y0.size() * 4}};
  qpalrtBuffer *buffers[5] = {};
  for (int i = 0; i < 5; ++i)
    if (qpalrtAlloc(context, hostArgs[i].bytes, &buffers[i]) !=
            QPALRT_SUCCESS ||
        qpalrtUpload(buffers[i], hostArgs[i].data, hostArgs[i].bytes, 0) !=
            QPALRT_SUCCESS)
      return fail("cannot upload the kernel's arguments");
  qpalrtLaunchConfig config = {};
  config.grid[0] = static_cast<uint32_t>(launch.gridX);
  config.grid[1] = config.grid[2] = 1;
  config.block[0] = static_cast<uint32_t>(launch.blockX);
  config.block[1] = config.block[2] = 1;
  if (qpalrtLaunch(function, &config, buffers, 5) != QPALRT_SUCCESS ||
      qpalrtSynchronize(context) != QPALRT_SUCCESS)
    return fail("the kernel failed");
  std::vector<float> y(data.y0.size());
  if (qpalrtDownload(buffers[4], y.data(), y.size() * 4, 0) != QPALRT_SUCCESS)
    return fail("cannot read the result");
  double error = maxRelativeError(data, y);
  report.fields["max_rel_err"] = error;
  report.lines.push_back(formatv(
      "max relative error {0:e2} against the float64 reference", error));
  if (bench) {
    double microseconds = 0;
    if (qpalrtTimeLaunch(function, &config, buffers, 5,
                         iterations ? iterations : 200,
                         &microseconds) != QPALRT_SUCCESS)
      return fail("cannot time the kernel");
    double gbps = spec.storageBytes(rows, cols) / (microseconds * 1e-6) / 1e9;
    report.fields["microseconds"] = microseconds;
    report.fields["gbps"] = gbps;
    report.lines.push_back(formatv("{0:f2} us per call: {1:f1} GB/s of weights",
                                   microseconds, gbps));
  }
  return Error::success();
}

/// The MLIR context, the diagnostics and the module a kernel is built in.
/// Diagnostics from kernel construction name the rule that failed; they are
/// collected for the error message.
class KernelBuild {
public:
  KernelBuild()
      : context(makeRegistry()), handler(&context,
                                         [this](mlir::Diagnostic &diag) {
                                           diagnostics += diag.str();
                                           return mlir::success();
                                         }),
        builder(&context), loc(mlir::UnknownLoc::get(&context)),
        module(mlir::ModuleOp::create(loc)) {
    context.loadAllAvailableDialects();
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// Creates the `gpu.module` for `chipName` and moves the builder into it.
  void startGpuModule(StringRef chipName) {
    auto kernels = mlir::gpu::GPUModuleOp::create(
        builder, loc, "qpal_kernels",
        builder.getArrayAttr({mlir::NVVM::NVVMTargetAttr::get(
            &context, 3, "nvptx64-nvidia-cuda", chipName, "+ptx78")}));
    (*module)->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                       builder.getUnitAttr());
    builder.setInsertionPointToEnd(kernels.getBody());
  }

  /// Lowers the GPU module to PTX and writes it where -o says: a cubin
  /// (through ptxas), a .ptx file, or standard output when `print`.
  Expected<std::string> emitPtx(bool print) {
    if (failed(lowerGpuKernelsToPtx(*module)))
      return createStringError(inconvertibleErrorCode(),
                               "cannot lower the kernel to PTX: " +
                                   diagnostics);
    Expected<std::string> ptx = extractPtx(*module, "qpal_kernels");
    if (!ptx)
      return ptx.takeError();
    StringRef out = outputPath;
    if (out.ends_with(".cubin")) {
      if (Error err = assembleCubin(*ptx, chip, out))
        return std::move(err);
    } else if (!out.empty() && !out.ends_with(".mlir")) {
      if (Error err = writeFile(out, *ptx))
        return std::move(err);
    } else if (out.empty() && print) {
      outs() << *ptx;
    }
    return ptx;
  }

  mlir::MLIRContext context;
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler;
  mlir::OpBuilder builder;
  mlir::Location loc;
  mlir::OwningOpRef<mlir::ModuleOp> module;

private:
  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    registerKernelLoweringDependencies(registry);
    return registry;
  }
};

/// Runs the CPU rotation kernel on seeded data and compares it with
/// lib/Quant's HadamardTransform in float64.
Error runCpuRotation(mlir::ModuleOp module, Report &report) {
  Expected<std::unique_ptr<mlir::ExecutionEngine>> engine =
      jitCpuKernels(module);
  if (!engine)
    return engine.takeError();
  auto kernel = (*engine)->lookup(getRotationKernelName(cols, batch, "cpu"));
  if (!kernel)
    return kernel.takeError();
  Expected<HadamardTransform> transform = HadamardTransform::create(cols);
  if (!transform)
    return transform.takeError();
  Expected<ArrayRef<int8_t>> matrix = hadamardMatrix(transform->smallOrder());
  if (!matrix)
    return matrix.takeError();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(batch * cols), signs(cols), t(batch * cols),
      y(batch * cols, std::nanf("")), hk(matrix->begin(), matrix->end());
  for (float &v : x)
    v = normal(rng);
  for (float &s : signs)
    s = (rng() & 1) ? 1.0f : -1.0f;
  int64_t range[2] = {0, batch};
  using RotateFn =
      void (*)(float *, float *, float *, float *, float *, int64_t *);
  reinterpret_cast<RotateFn> (*kernel)(x.data(), signs.data(), hk.data(),
                                       t.data(), y.data(), range);
  double worst = 0, scale = 0;
  std::vector<double> reference(cols);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < cols; ++c)
      reference[c] = double(signs[c]) * x[n * cols + c];
    transform->apply(reference);
    for (int64_t c = 0; c < cols; ++c) {
      double error = std::abs(y[n * cols + c] - reference[c]);
      worst = std::isnan(error) ? NAN : std::max(worst, error);
      scale = std::max(scale, std::abs(reference[c]));
    }
  }
  double relative = worst / scale;
  report.fields["max_rel_err"] = relative;
  report.fields["hadamard_order"] =
      static_cast<int64_t>(transform->smallOrder());
  report.lines.push_back(
      formatv("max relative error {0:e2} against lib/Quant's RHT in float64 "
              "(K = {1}, M = {2})",
              relative, transform->smallOrder(), transform->powerOfTwo()));
  return Error::success();
}

/// `qpal kernel --rotation`: the activation rotation kernel.
int runRotationKernel() {
  if (!quantizerName.empty() || rows != 0)
    return driver::reportError(
        kCommand, "--rotation takes --cols and --batch, not --quantizer or "
                  "--rows");
  if (bench)
    return driver::reportError(kCommand,
                               "--bench is for dequant-matmul kernels");
  bool gpu = target == "nvptx";
  if (!gpu && target != "cpu")
    return driver::reportError(
        kCommand, formatv("unknown target '{0}', expected cpu or nvptx",
                          target.getValue()));
  if (gpu && run)
    return driver::reportError(
        kCommand, "--check of the GPU rotation kernel runs through "
                  "qpal-gpu-kernels on a GPU machine, not here");
  KernelBuild build;
  mlir::OpBuilder &builder = build.builder;
  mlir::Location loc = build.loc;
  Report report;
  report.fields["kernel_kind"] = "rotation";
  report.fields["cols"] = cols.getValue();
  report.fields["batch"] = batch.getValue();
  if (gpu) {
    Expected<GpuChip> found = lookupGpuChip(chip);
    if (!found)
      return driver::reportError(kCommand, toString(found.takeError()));
    build.startGpuModule(found->name);
    std::string name = getRotationKernelName(cols, batch, found->name);
    constexpr int64_t kThreads = 256;
    if (failed(
            buildGpuRotationKernel(builder, loc, cols, batch, kThreads, name)))
      return driver::reportError(kCommand, build.diagnostics);
    report.fields["kernel"] = name;
    report.fields["grid"] = batch.getValue();
    report.fields["block"] = kThreads;
    if (Expected<std::string> ptx = build.emitPtx(!emitJson); !ptx)
      return driver::reportError(kCommand, toString(ptx.takeError()));
  } else {
    if (failed(buildCpuRotationKernel(builder, loc, cols, batch)))
      return driver::reportError(kCommand, build.diagnostics);
    report.fields["kernel"] = getRotationKernelName(cols, batch, "cpu");
    if (failed(lowerCpuKernelsToLLVM(*build.module)))
      return driver::reportError(kCommand, "cannot lower the kernel to LLVM: " +
                                               build.diagnostics);
    if (!outputPath.empty())
      if (Error err = emitHostObject(*build.module, outputPath))
        return driver::reportError(kCommand, toString(std::move(err)));
    if (run)
      if (Error err = runCpuRotation(*build.module, report))
        return driver::reportError(kCommand, toString(std::move(err)));
  }
  if (emitJson)
    outs() << formatv("{0:2}", json::Value(std::move(report.fields))) << "\n";
  else
    for (const std::string &line : report.lines)
      outs() << line << "\n";
  return 0;
}

int runKernel() {
  if (check || bench || !loadPath.empty())
    run = true;
  if (rotation)
    return runRotationKernel();
  if (quantizerName.empty() || rows <= 0)
    return driver::reportError(kCommand,
                               "needs --quantizer and --rows (or --rotation)");
  KernelBuild build;
  mlir::MLIRContext &context = build.context;
  mlir::OpBuilder &builder = build.builder;
  mlir::Location loc = build.loc;
  std::string &diagnostics = build.diagnostics;
  mlir::OwningOpRef<mlir::ModuleOp> &module = build.module;

  Expected<QuantizerAttrInterface> quantizer =
      parseQuantizerName(&context, quantizerName);
  if (!quantizer)
    return driver::reportError(kCommand, toString(quantizer.takeError()));
  KernelShape shape{*quantizer, rows, cols, batch};
  bool gpu = target == "nvptx";
  if (!gpu && target != "cpu")
    return driver::reportError(
        kCommand, formatv("unknown target '{0}', expected cpu or nvptx",
                          target.getValue()));

  if (gpu && !loadPath.empty())
    return driver::reportError(
        kCommand, "--load runs CPU kernels; GPU kernels run through "
                  "--run here or qpal-gpu-kernels on a GPU machine");

  Report report;
  report.fields["quantizer"] = quantizer->getReferenceName();
  report.fields["target"] = gpu ? chip.getValue() : std::string("cpu");
  report.fields["rows"] = rows.getValue();
  report.fields["cols"] = cols.getValue();
  report.fields["batch"] = batch.getValue();
  GpuLaunch launch;
  std::string name;
  if (gpu) {
    Expected<GpuChip> found = lookupGpuChip(chip);
    if (!found)
      return driver::reportError(kCommand, toString(found.takeError()));
    if (smCount)
      found->smCount = smCount;
    build.startGpuModule(found->name);
    name = getKernelName(shape, found->name);
    // The launch is chosen for a valid shape only; buildGpuKernel reports
    // an invalid one.
    if (failed(verifyKernelShape(loc, shape)))
      return driver::reportError(kCommand, diagnostics);
    GpuLaunchOptions options;
    options.mma = gpuMma;
    options.packedPairs = gpuPacked;
    options.unroll = gpuUnroll;
    options.blocksPerSm = gpuBlocksPerSm;
    options.packedReplicas = gpuPackedReplicas;
    options.vectorSegments = gpuVectorSegments;
    launch = chooseGpuLaunch(shape, *found, options);
    if (failed(buildGpuKernel(builder, loc, shape, launch, name)))
      return driver::reportError(kCommand, diagnostics);
    report.fields["grid"] = launch.gridX;
    report.fields["block"] = launch.blockX;
    report.fields["k_splits"] = launch.kSplits;
    report.fields["mma"] = launch.mma;
    report.fields["unroll"] = static_cast<int64_t>(launch.unroll);
    report.fields["shared_codebook"] = launch.sharedCodebook;
    report.fields["packed_pairs"] = launch.packedPairs;
    report.fields["vector_segments"] = launch.vectorSegments;
    report.fields["packed_replicas"] =
        static_cast<int64_t>(launch.packedReplicas);
    report.fields["blocks_per_sm"] = static_cast<int64_t>(launch.blocksPerSm);
  } else if (!loadPath.empty()) {
    if (!outputPath.empty() || emitMlir)
      return driver::reportError(
          kCommand, "--load runs a compiled kernel; it takes no -o or "
                    "--emit-mlir");
    if (failed(verifyKernelShape(loc, shape)))
      return driver::reportError(kCommand, diagnostics);
    name = getKernelName(shape, "cpu");
    if (Error err = runCpuObject(loadPath, shape, report))
      return driver::reportError(kCommand, toString(std::move(err)));
  } else {
    name = getKernelName(shape, "cpu");
    CpuKernelOptions options;
    Expected<CpuDecode> decode = parseCpuDecode(cpuDecode);
    if (!decode)
      return driver::reportError(kCommand, toString(decode.takeError()));
    options.decode = *decode;
    options.packedPairs = cpuPacked;
    options.dealtSegments = cpuDealtSegments;
    bool onlyMlir = StringRef(outputPath).ends_with(".mlir") && !run;
    Expected<CpuIsa> isa = parseCpuIsa(cpuIsa, /*mustRunHere=*/!onlyMlir);
    if (!isa)
      return driver::reportError(kCommand, toString(isa.takeError()));
    options.isa = *isa;
    report.fields["cpu_isa"] = getCpuIsaName(*isa).str();
    if (failed(buildCpuKernel(builder, loc, shape, options)) ||
        failed(buildCpuDequantKernel(builder, loc, shape, options)))
      return driver::reportError(kCommand, diagnostics);
    report.fields["vector_decode"] = usesCpuVectorDecode(shape, options);
  }
  report.fields["kernel"] = name;

  if (emitMlir || StringRef(outputPath).ends_with(".mlir")) {
    std::string text;
    raw_string_ostream os(text);
    module->print(os);
    if (outputPath.empty() || !StringRef(outputPath).ends_with(".mlir"))
      outs() << text;
    else if (Error err = writeFile(outputPath, text))
      return driver::reportError(kCommand, toString(std::move(err)));
    if (!run)
      return 0;
  }

  if (!loadPath.empty()) {
    // Ran above.
  } else if (gpu) {
    Expected<std::string> ptx = build.emitPtx(!run && !emitJson);
    if (!ptx)
      return driver::reportError(kCommand, toString(ptx.takeError()));
    if (run)
      if (Error err = runGpu(*ptx, shape, launch, name, report))
        return driver::reportError(kCommand, toString(std::move(err)));
  } else {
    if (failed(lowerCpuKernelsToLLVM(*module)))
      return driver::reportError(kCommand, "cannot lower the kernel to LLVM: " +
                                               diagnostics);
    StringRef out = outputPath;
    if (!out.empty() && !out.ends_with(".mlir"))
      if (Error err = emitHostObject(*module, out))
        return driver::reportError(kCommand, toString(std::move(err)));
    if (run)
      if (Error err = runCpu(*module, shape, report))
        return driver::reportError(kCommand, toString(std::move(err)));
  }

  if (emitJson) {
    outs() << formatv("{0:2}", json::Value(std::move(report.fields))) << "\n";
  } else if (run) {
    outs() << formatv("{0} {1}x{2} batch {3} on {4}\n",
                      quantizerName.getValue(), rows.getValue(),
                      cols.getValue(), batch.getValue(),
                      gpu ? chip.getValue() : std::string("cpu"));
    for (const std::string &line : report.lines)
      outs() << "  " << line << "\n";
  }
  return 0;
}

} // namespace

static driver::CommandRegistration registerKernel(kernelCommand, runKernel);
