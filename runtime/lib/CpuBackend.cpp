//===- CpuBackend.cpp - Kernels in a host shared object -------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A CPU module is a shared object opened with dlopen(RTLD_NOW | RTLD_LOCAL);
// a kernel is an exported `void fn(void *, ...)` taking one host pointer per
// buffer, called once per launch (the compiled kernel threads itself), or,
// for a ranged launch, once per worker thread with a range of its own
// appended (qpal's kernels, which split their rows this way).
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <mutex>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace qpalrt;

namespace {

constexpr size_t kAlignment = 64;

/// Copies `value` into a fixed-size, NUL-terminated field.
template <size_t N>
void copyString(char (&field)[N], const std::string &value) {
  std::snprintf(field, N, "%s", value.c_str());
}

/// Returns the value of the first "`key` : value" line of /proc/cpuinfo.
std::string readCpuInfo(const char *key) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  size_t keyLength = std::strlen(key);
  while (std::getline(cpuinfo, line)) {
    if (line.compare(0, keyLength, key) != 0)
      continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon + 2 > line.size())
      return "";
    return line.substr(colon + 2);
  }
  return "";
}

/// The instruction set extensions that matter to the CPU kernels.
std::string cpuFeatures() {
#if defined(__x86_64__) || defined(__i386__)
  std::string features;
  __builtin_cpu_init();
#define QPALRT_FEATURE(name)                                                   \
  if (__builtin_cpu_supports(name))                                            \
    features += features.empty() ? name : " " name;
  QPALRT_FEATURE("sse4.2")
  QPALRT_FEATURE("avx")
  QPALRT_FEATURE("avx2")
  QPALRT_FEATURE("fma")
  QPALRT_FEATURE("f16c")
  QPALRT_FEATURE("avxvnni")
  QPALRT_FEATURE("avx512f")
  QPALRT_FEATURE("avx512bw")
  QPALRT_FEATURE("avx512vl")
  QPALRT_FEATURE("avx512vnni")
  QPALRT_FEATURE("avx512bf16")
  QPALRT_FEATURE("avx512fp16")
  QPALRT_FEATURE("amx-tile")
#undef QPALRT_FEATURE
  return features;
#else
  return readCpuInfo("Features"); // AArch64: "fp asimd ... asimdhp sve"
#endif
}

/// Calls `fn` with `numArgs` pointer arguments.
void callKernel(void *fn, const Address *args, size_t numArgs) {
  using P = void *;
  auto a = [&](size_t i) { return reinterpret_cast<P>(args[i]); };
  switch (numArgs) {
  case 0:
    return reinterpret_cast<void (*)()>(fn)();
  case 1:
    return reinterpret_cast<void (*)(P)>(fn)(a(0));
  case 2:
    return reinterpret_cast<void (*)(P, P)>(fn)(a(0), a(1));
  case 3:
    return reinterpret_cast<void (*)(P, P, P)>(fn)(a(0), a(1), a(2));
  case 4:
    return reinterpret_cast<void (*)(P, P, P, P)>(fn)(a(0), a(1), a(2), a(3));
  case 5:
    return reinterpret_cast<void (*)(P, P, P, P, P)>(fn)(a(0), a(1), a(2), a(3),
                                                         a(4));
  case 6:
    return reinterpret_cast<void (*)(P, P, P, P, P, P)>(fn)(a(0), a(1), a(2),
                                                            a(3), a(4), a(5));
  case 7:
    return reinterpret_cast<void (*)(P, P, P, P, P, P, P)>(fn)(
        a(0), a(1), a(2), a(3), a(4), a(5), a(6));
  case 8:
    return reinterpret_cast<void (*)(P, P, P, P, P, P, P, P)>(fn)(
        a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7));
  }
  static_assert(QPALRT_MAX_KERNEL_ARGS == 8, "extend the switch above");
}

/// The worker threads of ranged launches, started as launches need them and
/// kept: starting threads per launch costs tens of microseconds, as much as
/// a small layer's kernel. Between launches a worker spins for up to
/// kSpinMicroseconds (a model's layers come back to back), then sleeps on a
/// condition variable.
class WorkerPool {
public:
  static constexpr int kSpinMicroseconds = 50;

  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
      generation.fetch_add(1, std::memory_order_acq_rel);
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
  }

  /// Runs task(t) for t in [0, threads): t = 0 on the calling thread, the
  /// others on workers; returns when all have. One launch at a time.
  void run(int threads, const std::function<void(int)> &task) {
    std::lock_guard<std::mutex> launch(launchMutex);
    {
      std::lock_guard<std::mutex> lock(mutex);
      // A new worker starts from the current generation: it takes part in
      // this launch.
      while (int(workers.size()) < threads - 1)
        workers.emplace_back([this, index = int(workers.size()) + 1,
                              seen = generation.load()] { loop(index, seen); });
      current = &task;
      active = threads - 1;
      pending.store(threads - 1, std::memory_order_release);
      generation.fetch_add(1, std::memory_order_acq_rel);
    }
    wake.notify_all();
    task(0);
    if (spinUntil([&] { return pending.load(std::memory_order_acquire) == 0; }))
      return;
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return pending.load() == 0; });
  }

private:
  /// Spins until `ready()` or kSpinMicroseconds pass; returns ready().
  template <typename Ready> static bool spinUntil(Ready &&ready) {
    auto start = std::chrono::steady_clock::now();
    for (unsigned i = 1;; ++i) {
      if (ready())
        return true;
      if (i % 64 == 0 && std::chrono::steady_clock::now() - start >
                             std::chrono::microseconds(kSpinMicroseconds))
        return ready();
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }

  void loop(int index, uint64_t seen) {
    while (true) {
      spinUntil(
          [&] { return generation.load(std::memory_order_acquire) != seen; });
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return generation.load() != seen; });
      seen = generation.load();
      if (stopping)
        return;
      if (index > active)
        continue;
      const std::function<void(int)> *task = current;
      lock.unlock();
      (*task)(index);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // Take the lock so that the notification cannot fall between the
        // launcher's check and its wait.
        std::lock_guard<std::mutex> relock(mutex);
        done.notify_one();
      }
    }
  }

  std::mutex launchMutex;
  std::mutex mutex;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  const std::function<void(int)> *current = nullptr;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  int active = 0;
  bool stopping = false;
};

class CpuBackend final : public Backend {
public:
  qpalrtStatus getDeviceInfo(qpalrtDeviceInfo &info) override {
    std::string name = readCpuInfo("model name");
    copyString(info.name, name.empty() ? "CPU" : name);
    info.multiprocessorCount = int(sysconf(_SC_NPROCESSORS_ONLN));
    long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
    info.totalMemoryBytes =
        pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : 0;
#ifdef _SC_LEVEL2_CACHE_SIZE
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    info.l2CacheBytes = l2 > 0 ? uint64_t(l2) : 0;
#endif
    copyString(info.features, cpuFeatures());
    return QPALRT_SUCCESS;
  }

  qpalrtStatus loadModule(const void *data, size_t size,
                          qpalrtModuleFormat /*format*/, const char *path,
                          void **module) override {
    if (path)
      return open(path, path, module);
    // dlopen needs a file: put the bytes in an anonymous memory file.
    int fd = memfd_create("qpalrt-module", MFD_CLOEXEC);
    if (fd < 0)
      return fail(QPALRT_ERROR_IO, "memfd_create failed: %s",
                  std::strerror(errno));
    const char *bytes = static_cast<const char *>(data);
    for (size_t done = 0; done < size;) {
      ssize_t n = write(fd, bytes + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        close(fd);
        return fail(QPALRT_ERROR_IO, "cannot write the module to a memfd: %s",
                    std::strerror(errno));
      }
      done += size_t(n);
    }
    // dlopen knows a loaded object by the path it was opened with, and an
    // object marked NODELETE (LLVM's build links shared objects so) stays
    // loaded after dlclose: the path of an earlier module, from a recycled
    // descriptor number, would give that module back. Move the memfd to a
    // number that no loaded object was opened from.
    std::string fdPath = "/proc/self/fd/" + std::to_string(fd);
    while (void *earlier = dlopen(fdPath.c_str(), RTLD_LAZY | RTLD_NOLOAD)) {
      dlclose(earlier);
      int higher = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
      int error = errno;
      close(fd);
      if (higher < 0)
        return fail(QPALRT_ERROR_IO, "cannot duplicate the module's memfd: %s",
                    std::strerror(error));
      fd = higher;
      fdPath = "/proc/self/fd/" + std::to_string(fd);
    }
    qpalrtStatus s = open(fdPath.c_str(), "<memory>", module);
    close(fd); // the mapping keeps the file alive
    return s;
  }

  qpalrtStatus unloadModule(void *module) override {
    if (dlclose(module) != 0)
      return fail(QPALRT_ERROR_FORMAT, "dlclose failed: %s", dlerror());
    return QPALRT_SUCCESS;
  }

  qpalrtStatus getFunction(void *module, const char *name,
                           const std::string &moduleName,
                           void **function) override {
    dlerror();
    void *symbol = dlsym(module, name);
    if (!symbol)
      return fail(QPALRT_ERROR_NOT_FOUND,
                  "function '%s' not found in module '%s'", name,
                  moduleName.c_str());
    *function = symbol;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus allocate(size_t bytes, Address *address) override {
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void *memory =
        rounded >= bytes ? std::aligned_alloc(kAlignment, rounded) : nullptr;
    if (!memory)
      return fail(QPALRT_ERROR_OUT_OF_MEMORY,
                  "cannot allocate %zu bytes of host memory", bytes);
    *address = reinterpret_cast<uintptr_t>(memory);
    return QPALRT_SUCCESS;
  }

  qpalrtStatus deallocate(Address address) override {
    std::free(reinterpret_cast<void *>(address));
    return QPALRT_SUCCESS;
  }

  qpalrtStatus upload(Address dst, const void *src, size_t bytes) override {
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
    return QPALRT_SUCCESS;
  }

  qpalrtStatus download(void *dst, Address src, size_t bytes) override {
    std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
    return QPALRT_SUCCESS;
  }

  qpalrtStatus launch(qpalrtFunction &function, const qpalrtLaunchConfig &,
                      const Address *args, size_t numArgs) override {
    callKernel(function.handle, args, numArgs);
    return QPALRT_SUCCESS;
  }

  qpalrtStatus timeLaunch(qpalrtFunction &function,
                          const qpalrtLaunchConfig &config, const Address *args,
                          size_t numArgs, int iterations,
                          double *microseconds) override {
    launch(function, config, args, numArgs);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i)
      callKernel(function.handle, args, numArgs);
    std::chrono::duration<double, std::micro> elapsed =
        std::chrono::steady_clock::now() - start;
    *microseconds = elapsed.count() / iterations;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus timeLaunchSets(qpalrtFunction &function,
                              const qpalrtLaunchConfig &, const Address *args,
                              size_t numArgs, size_t numSets, int iterations,
                              double *microseconds, bool *usedGraph) override {
    for (size_t set = 0; set < numSets; ++set)
      callKernel(function.handle, args + set * numArgs, numArgs);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i)
      for (size_t set = 0; set < numSets; ++set)
        callKernel(function.handle, args + set * numArgs, numArgs);
    std::chrono::duration<double, std::micro> elapsed =
        std::chrono::steady_clock::now() - start;
    *microseconds = elapsed.count() / (double(iterations) * numSets);
    *usedGraph = false;
    return QPALRT_SUCCESS;
  }

  qpalrtStatus launchRange(qpalrtFunction &function, const Address *args,
                           size_t numArgs, int64_t count,
                           int threads) override {
    if (threads == 0)
      threads = std::max(1, int(sysconf(_SC_NPROCESSORS_ONLN)));
    if (count < threads)
      threads = int(count);
    std::vector<int64_t> ranges(2 * size_t(threads));
    pool.run(threads, [&](int t) {
      int64_t *range = &ranges[2 * size_t(t)];
      range[0] = count * t / threads;
      range[1] = count * (t + 1) / threads;
      Address withRange[QPALRT_MAX_KERNEL_ARGS];
      std::copy(args, args + numArgs, withRange);
      withRange[numArgs] = reinterpret_cast<uintptr_t>(range);
      callKernel(function.handle, withRange, numArgs + 1);
    });
    return QPALRT_SUCCESS;
  }

  qpalrtStatus synchronize() override { return QPALRT_SUCCESS; }

private:
  WorkerPool pool;

  /// dlopens `path`; `name` is what messages call the module.
  static qpalrtStatus open(const char *path, const char *name, void **module) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      return fail(QPALRT_ERROR_FORMAT,
                  "cannot load '%s' as a shared object: %s", name, dlerror());
    *module = handle;
    return QPALRT_SUCCESS;
  }
};

} // namespace

qpalrtStatus qpalrt::getCpuDeviceCount(int *count) {
  *count = 1;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrt::createCpuBackend(int ordinal,
                                      std::unique_ptr<Backend> &out) {
  if (ordinal != 0)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "CPU device ordinal %d out of range: there is 1 CPU device",
                ordinal);
  out = std::make_unique<CpuBackend>();
  return QPALRT_SUCCESS;
}
