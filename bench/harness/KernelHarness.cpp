//===- KernelHarness.cpp - Check and time one compiled kernel -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include "qpal/Quant/Hadamard.h"

#include "qpalrt.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

using namespace llvm;
using namespace qpal;
using namespace qpal::harness;

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

/// A copy of one kernel argument in its own mapping, flush against an
/// inaccessible page at its end or its start (GuardPlacement), so that a
/// kernel touching one byte outside its buffer faults. Packages map their
/// weights straight from the file; there an overread is a crash in the
/// field.
class GuardedBuffer {
public:
  GuardedBuffer() = default;
  GuardedBuffer(const GuardedBuffer &) = delete;
  GuardedBuffer &operator=(const GuardedBuffer &) = delete;
  GuardedBuffer(GuardedBuffer &&other) { *this = std::move(other); }
  GuardedBuffer &operator=(GuardedBuffer &&other) {
    std::swap(base, other.base);
    std::swap(mapped, other.mapped);
    std::swap(data, other.data);
    std::swap(bytes, other.bytes);
    return *this;
  }
  ~GuardedBuffer() {
    if (base)
      munmap(base, mapped);
  }

  /// Maps `size` bytes, a copy of `source` (or uninitialized when null),
  /// placed as `placement` says (End or Start).
  static Expected<GuardedBuffer> create(const void *source, size_t size,
                                        GuardPlacement placement) {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t pages = (size + page - 1) / page;
    GuardedBuffer buffer;
    buffer.mapped = (pages + 2) * page;
    void *base = mmap(nullptr, buffer.mapped, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
      return createStringError(inconvertibleErrorCode(),
                               "cannot map a guarded buffer of %zu bytes: %s",
                               size, std::strerror(errno));
    buffer.base = static_cast<char *>(base);
    if (pages &&
        mprotect(buffer.base + page, pages * page, PROT_READ | PROT_WRITE) != 0)
      return createStringError(inconvertibleErrorCode(),
                               "cannot open a guarded buffer: %s",
                               std::strerror(errno));
    char *first = buffer.base + page;
    buffer.data = placement == GuardPlacement::Start
                      ? first
                      : first + pages * page - size;
    buffer.bytes = size;
    if (source && size)
      std::memcpy(buffer.data, source, size);
    return std::move(buffer);
  }

  template <typename T> T *get() const { return reinterpret_cast<T *>(data); }
  size_t size() const { return bytes; }

private:
  char *base = nullptr;
  size_t mapped = 0;
  char *data = nullptr;
  size_t bytes = 0;
};

/// Guarded copies of `vectors` (any element type), in order; the first
/// error if one cannot be made.
template <typename... Vectors>
Expected<std::vector<GuardedBuffer>> guardAll(GuardPlacement placement,
                                              const Vectors &...vectors) {
  std::vector<GuardedBuffer> buffers;
  Error error = Error::success();
  auto add = [&](const auto &vector) {
    if (error)
      return;
    Expected<GuardedBuffer> buffer = GuardedBuffer::create(
        vector.data(), vector.size() * sizeof(vector[0]), placement);
    if (!buffer)
      error = buffer.takeError();
    else
      buffers.push_back(std::move(*buffer));
  };
  (add(vectors), ...);
  if (error)
    return std::move(error);
  return std::move(buffers);
}

/// The seeded case of `shape`, with its reference.
Expected<KernelCase> makeData(const KernelShape &shape,
                              const HarnessOptions &options) {
  return makeKernelCase(shape.quantizer.getSpec(), shape.rows, shape.cols,
                        shape.batch, options.seed, /*withReference=*/true,
                        options.threads);
}

/// Copy bandwidth of this machine (GB/s), STREAM-style: 2 x 256 MiB.
double measureCopyBandwidthImpl(unsigned workers) {
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
            unsigned workers, GuardPlacement guard)
      : kernel(kernel), dequantKernel(dequantKernel), groups(groups),
        workers(workers), guard(guard) {
    // Workers persist across calls, as in a runtime: starting threads per
    // call cost ~60 us, more than a small layer's kernel.
    pool.emplace(workers);
  }
  unsigned getThreads() const override { return workers; }
  Error matmul(const KernelCase &data, std::vector<float> &y) override {
    if (guard == GuardPlacement::None) {
      parallelCall([&](int64_t *range) {
        kernel(data.x.data(), data.codes.data(), data.codebook.data(),
               data.scales.data(), y.data(), range);
      });
      return Error::success();
    }
    Expected<std::vector<GuardedBuffer>> args =
        guardAll(guard, data.x, data.codes, data.codebook, data.scales, y);
    if (!args)
      return args.takeError();
    std::vector<GuardedBuffer> &a = *args;
    parallelCall([&](int64_t *range) {
      kernel(a[0].get<float>(), a[1].get<uint8_t>(), a[2].get<float>(),
             a[3].get<float>(), a[4].get<float>(), range);
    });
    std::memcpy(y.data(), a[4].get<float>(), a[4].size());
    return Error::success();
  }
  Error dequant(const KernelCase &data, std::vector<float> &weights) override {
    if (guard == GuardPlacement::None) {
      parallelCall([&](int64_t *range) {
        dequantKernel(data.codes.data(), data.codebook.data(), weights.data(),
                      range);
      });
      return Error::success();
    }
    Expected<std::vector<GuardedBuffer>> args =
        guardAll(guard, data.codes, data.codebook, weights);
    if (!args)
      return args.takeError();
    std::vector<GuardedBuffer> &a = *args;
    parallelCall([&](int64_t *range) {
      dequantKernel(a[0].get<uint8_t>(), a[1].get<float>(), a[2].get<float>(),
                    range);
    });
    std::memcpy(weights.data(), a[2].get<float>(), a[2].size());
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
  GuardPlacement guard;
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
                      CpuCaller &caller, const HarnessOptions &options,
                      Report &report) {
  QuantizerSpec spec = shape.quantizer.getSpec();
  std::vector<float> y = data.y0;
  if (Error err = caller.matmul(data, y))
    return err;
  std::vector<float> weights(shape.rows * shape.cols, std::nanf(""));
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
  if (!options.bench)
    return Error::success();
  Expected<double> once = caller.time(data, 1);
  if (!once)
    return once.takeError();
  unsigned calls = options.iterations;
  if (calls == 0)
    calls = std::clamp<unsigned>(static_cast<unsigned>(0.5 / *once), 3, 1000);
  Expected<double> total = caller.time(data, calls);
  if (!total)
    return total.takeError();
  double seconds = *total / calls;
  double bytes = spec.storageBytes(shape.rows, shape.cols);
  double gbps = bytes / seconds / 1e9;
  unsigned workers = caller.getThreads();
  caller.release(); // spinning workers would slow the copy
  double stream = measureCopyBandwidthImpl(workers);
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

Expected<CpuRun> prepareCpuRun(const KernelShape &shape,
                               const HarnessOptions &options) {
  Expected<KernelCase> made = makeData(shape, options);
  if (!made)
    return made.takeError();
  unsigned workers =
      options.threads ? options.threads : std::thread::hardware_concurrency();
  int64_t groups = shape.rows / getKernelRowGroup(shape);
  workers = std::max<unsigned>(1, std::min<int64_t>(workers, groups));
  return CpuRun{std::move(*made), groups, workers};
}

} // namespace

StringRef qpal::harness::getGuardPlacementName(GuardPlacement placement) {
  switch (placement) {
  case GuardPlacement::None:
    return "none";
  case GuardPlacement::End:
    return "end";
  case GuardPlacement::Start:
    return "start";
  }
  llvm_unreachable("unknown guard placement");
}

double qpal::harness::measureCopyBandwidth(unsigned workers) {
  return measureCopyBandwidthImpl(workers);
}

/// Runs the CPU kernel of `module` (lowered already) over all row groups,
/// JIT-compiled in this process.
Error qpal::harness::runCpuKernel(mlir::ModuleOp module,
                                  const KernelShape &shape,
                                  const HarnessOptions &options,
                                  Report &report) {
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
  Expected<CpuRun> run = prepareCpuRun(shape, options);
  if (!run)
    return run.takeError();
  JitCaller caller(reinterpret_cast<KernelFn>(*kernel),
                   reinterpret_cast<DequantFn>(*dequant), run->groups,
                   run->workers, options.guard);
  report.fields["guard_pages"] = getGuardPlacementName(options.guard);
  return checkAndTimeCpu(shape, run->data, caller, options, report);
}

/// Runs the CPU kernel of `shape` from the shared object `path` (compiled by
/// `qpal kernel -o FILE.o` and linked with `-shared`) through the runtime.
Error qpal::harness::runCpuObject(StringRef path, const KernelShape &shape,
                                  const HarnessOptions &options,
                                  Report &report) {
  std::string name = getKernelName(shape, "cpu");
  std::string dequantName = getCpuDequantKernelName(shape);
  Expected<CpuRun> run = prepareCpuRun(shape, options);
  if (!run)
    return run.takeError();
  RuntimeCaller caller;
  if (Error err = caller.load(path, name, dequantName, run->data, run->groups,
                              run->workers))
    return err;
  report.fields["loaded"] = path.str();
  return checkAndTimeCpu(shape, run->data, caller, options, report);
}

/// Runs the PTX kernel on a CUDA device through the runtime.
Error qpal::harness::runGpuKernel(StringRef ptx, const KernelShape &shape,
                                  const GpuLaunch &launch, StringRef name,
                                  const HarnessOptions &options,
                                  Report &report) {
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
  Expected<KernelCase> made = makeData(shape, options);
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
  if (options.bench) {
    double microseconds = 0;
    if (qpalrtTimeLaunch(function, &config, buffers, 5,
                         options.iterations ? options.iterations : 200,
                         &microseconds) != QPALRT_SUCCESS)
      return fail("cannot time the kernel");
    double gbps =
        spec.storageBytes(shape.rows, shape.cols) / (microseconds * 1e-6) / 1e9;
    report.fields["microseconds"] = microseconds;
    report.fields["gbps"] = gbps;
    report.lines.push_back(formatv("{0:f2} us per call: {1:f1} GB/s of weights",
                                   microseconds, gbps));
  }
  return Error::success();
}

/// Runs the CPU rotation kernel on seeded data and compares it with
/// lib/Quant's HadamardTransform in float64.
Error qpal::harness::runCpuRotationKernel(mlir::ModuleOp module, int64_t cols,
                                          int64_t batch,
                                          const HarnessOptions &options,
                                          Report &report) {
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
  std::mt19937_64 rng(options.seed);
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
  auto rotate = reinterpret_cast<RotateFn>(*kernel);
  if (options.guard == GuardPlacement::None) {
    rotate(x.data(), signs.data(), hk.data(), t.data(), y.data(), range);
  } else {
    Expected<std::vector<GuardedBuffer>> args =
        guardAll(options.guard, x, signs, hk, t, y);
    if (!args)
      return args.takeError();
    std::vector<GuardedBuffer> &a = *args;
    rotate(a[0].get<float>(), a[1].get<float>(), a[2].get<float>(),
           a[3].get<float>(), a[4].get<float>(), range);
    std::memcpy(y.data(), a[4].get<float>(), a[4].size());
  }
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
  report.fields["guard_pages"] = getGuardPlacementName(options.guard);
  report.fields["hadamard_order"] =
      static_cast<int64_t>(transform->smallOrder());
  report.lines.push_back(
      formatv("max relative error {0:e2} against lib/Quant's RHT in float64 "
              "(K = {1}, M = {2})",
              relative, transform->smallOrder(), transform->powerOfTwo()));
  return Error::success();
}
