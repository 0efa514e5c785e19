//===- GpuKernels.cpp - Check and time compiled GPU kernels ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// qpal-gpu-kernels runs dequant-matmul kernels that `qpal kernel` compiled
// (cubins) on a CUDA GPU through the qpal runtime, without MLIR or LLVM on
// the GPU machine: lib/Quant and LLVM Support are linked in statically.
//
//   qpal-gpu-kernels MANIFEST [--json FILE] [--require-gpu]
//
// Each manifest line names one kernel:
//
//   check|bench QUANTIZER ROWS COLS BATCH CUBIN KERNEL GRID BLOCK [VARIANT]
//   rotate rht 1 COLS BATCH CUBIN KERNEL GRID BLOCK
//
// `check` runs the kernel on seeded random data (lib/Quant's KernelCase) and
// compares it with the float64 reference of lib/Quant's decode; `bench`
// times it with random codes, rotating through enough copies of the codes
// that they do not stay in L2, and reports GB/s of weight storage read;
// `rotate` runs the activation rotation kernel (`qpal kernel --rotation`)
// and compares it with lib/Quant's HadamardTransform in float64.
// Without a GPU the program says why and exits 0 (1 with --require-gpu).
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/KernelCase.h"
#include "qpal/Quant/QuantizerFamily.h"
#include "qpal/Quant/QuantizerSpec.h"

#include "qpalrt.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace qpal;

namespace {

struct Entry {
  int line = 0;
  std::string mode, quantizer, cubin, kernel, variant;
  int64_t rows = 0, cols = 0, batch = 0;
  uint32_t grid = 0, block = 0;
};

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "qpal-gpu-kernels: error: %s\n", message.c_str());
  std::exit(1);
}

std::vector<Entry> readManifest(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    die("cannot open manifest '" + path + "'");
  std::vector<Entry> entries;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    size_t hash = text.find('#');
    if (hash != std::string::npos)
      text.resize(hash);
    std::istringstream fields(text);
    Entry entry;
    entry.line = line;
    if (!(fields >> entry.mode))
      continue;
    if (!(fields >> entry.quantizer >> entry.rows >> entry.cols >>
          entry.batch >> entry.cubin >> entry.kernel >> entry.grid >>
          entry.block))
      die(path + ":" + std::to_string(line) +
          ": expected 'check|bench QUANTIZER ROWS COLS BATCH CUBIN KERNEL "
          "GRID BLOCK [VARIANT]'");
    fields >> entry.variant;
    if (entry.variant.empty())
      entry.variant = "default";
    if (entry.mode != "check" && entry.mode != "bench" &&
        entry.mode != "rotate")
      die(path + ":" + std::to_string(line) + ": unknown mode '" + entry.mode +
          "', expected check, bench or rotate");
    if (entry.rows <= 0 || entry.cols <= 0 || entry.batch <= 0 ||
        entry.grid == 0 || entry.block == 0)
      die(path + ":" + std::to_string(line) +
          ": sizes, grid and block must be positive");
    // Cubins are named relative to the manifest.
    if (!entry.cubin.empty() && entry.cubin[0] != '/') {
      size_t slash = path.rfind('/');
      if (slash != std::string::npos)
        entry.cubin = path.substr(0, slash + 1) + entry.cubin;
    }
    entries.push_back(entry);
  }
  return entries;
}

std::string lastError() { return qpalrtGetLastError(); }

/// The device buffers of one call's arguments.
struct Buffers {
  qpalrtBuffer *x = nullptr, *codebook = nullptr, *scales = nullptr,
               *y = nullptr;
  std::vector<qpalrtBuffer *> codes; // one per rotated set
  void release() {
    for (qpalrtBuffer *buffer : {x, codebook, scales, y})
      qpalrtFree(buffer);
    for (qpalrtBuffer *buffer : codes)
      qpalrtFree(buffer);
  }
};

qpalrtBuffer *uploadBytes(qpalrtContext *context, const void *data,
                          size_t bytes, const Entry &entry) {
  qpalrtBuffer *buffer = nullptr;
  if (qpalrtAlloc(context, bytes, &buffer) != QPALRT_SUCCESS ||
      qpalrtUpload(buffer, data, bytes, 0) != QPALRT_SUCCESS)
    die("line " + std::to_string(entry.line) + ": cannot upload " +
        std::to_string(bytes) + " bytes: " + lastError());
  return buffer;
}

Buffers uploadCase(qpalrtContext *context, const KernelCase &data,
                   const Entry &entry, size_t sets) {
  Buffers buffers;
  buffers.x = uploadBytes(context, data.x.data(), data.x.size() * 4, entry);
  buffers.codebook = uploadBytes(context, data.codebook.data(),
                                 data.codebook.size() * 4, entry);
  buffers.scales =
      uploadBytes(context, data.scales.data(), data.scales.size() * 4, entry);
  buffers.y = uploadBytes(context, data.y0.data(), data.y0.size() * 4, entry);
  for (size_t set = 0; set < sets; ++set)
    buffers.codes.push_back(
        uploadBytes(context, data.codes.data(), data.codes.size(), entry));
  return buffers;
}

/// Runs rotation kernel `function` on seeded data; returns the max
/// relative error against lib/Quant's RHT of s * x in float64.
double checkRotation(qpalrtContext *context, qpalrtFunction *function,
                     const qpalrtLaunchConfig &config, const Entry &entry) {
  std::string where = "line " + std::to_string(entry.line);
  llvm::Expected<HadamardTransform> transform =
      HadamardTransform::create(entry.cols);
  if (!transform)
    die(where + ": " + llvm::toString(transform.takeError()));
  llvm::Expected<llvm::ArrayRef<int8_t>> matrix =
      hadamardMatrix(transform->smallOrder());
  if (!matrix)
    die(where + ": " + llvm::toString(matrix.takeError()));
  std::mt19937_64 rng(2000 + entry.line);
  std::normal_distribution<float> normal;
  size_t count = entry.batch * entry.cols;
  std::vector<float> x(count), signs(entry.cols),
      hk(matrix->begin(), matrix->end()), poison(count, std::nanf(""));
  for (float &v : x)
    v = normal(rng);
  for (float &v : signs)
    v = (rng() & 1) ? 1.0f : -1.0f;
  qpalrtBuffer *args[5] = {
      uploadBytes(context, x.data(), count * 4, entry),
      uploadBytes(context, signs.data(), signs.size() * 4, entry),
      uploadBytes(context, hk.data(), hk.size() * 4, entry),
      uploadBytes(context, poison.data(), count * 4, entry),
      uploadBytes(context, poison.data(), count * 4, entry)};
  if (qpalrtLaunch(function, &config, args, 5) != QPALRT_SUCCESS ||
      qpalrtSynchronize(context) != QPALRT_SUCCESS)
    die(where + ": the rotation kernel failed: " + lastError());
  std::vector<float> y(count);
  if (qpalrtDownload(args[4], y.data(), count * 4, 0) != QPALRT_SUCCESS)
    die(where + ": cannot read the result: " + lastError());
  for (qpalrtBuffer *buffer : args)
    qpalrtFree(buffer);
  double worst = 0, scale = 0;
  std::vector<double> reference(entry.cols);
  for (int64_t n = 0; n < entry.batch; ++n) {
    for (int64_t c = 0; c < entry.cols; ++c)
      reference[c] = double(signs[c]) * x[n * entry.cols + c];
    transform->apply(reference);
    for (int64_t c = 0; c < entry.cols; ++c) {
      double error = std::abs(y[n * entry.cols + c] - reference[c]);
      if (std::isnan(error))
        return NAN;
      worst = std::max(worst, error);
      scale = std::max(scale, std::abs(reference[c]));
    }
  }
  return worst / scale;
}

std::string jsonEscape(const std::string &text) {
  std::string out;
  for (char c : text)
    out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out;
}

} // namespace

int main(int argc, char **argv) {
  std::string manifest, jsonPath;
  bool requireGpu = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json" && i + 1 < argc)
      jsonPath = argv[++i];
    else if (arg == "--require-gpu")
      requireGpu = true;
    else if (arg == "--help" || arg == "-h") {
      std::printf("usage: qpal-gpu-kernels MANIFEST [--json FILE] "
                  "[--require-gpu]\n");
      return 0;
    } else if (!arg.empty() && arg[0] == '-')
      die("unknown option '" + arg + "'");
    else if (manifest.empty())
      manifest = arg;
    else
      die("more than one manifest given");
  }
  if (manifest.empty())
    die("no manifest given (usage: qpal-gpu-kernels MANIFEST [--json FILE])");
  std::vector<Entry> entries = readManifest(manifest);

  int devices = 0;
  if (qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &devices) != QPALRT_SUCCESS ||
      devices == 0) {
    std::printf("qpal-gpu-kernels: skipped, no CUDA GPU: %s\n",
                devices == 0 && lastError().empty() ? "no device"
                                                    : lastError().c_str());
    return requireGpu ? 1 : 0;
  }
  qpalrtContext *context = nullptr;
  if (qpalrtCreateContext(QPALRT_DEVICE_CUDA, 0, &context) != QPALRT_SUCCESS)
    die("cannot create a CUDA context: " + lastError());
  qpalrtDeviceInfo info;
  qpalrtGetDeviceInfo(context, &info);
  std::printf("device: %s, sm_%d%d, %d SMs, L2 %.0f MiB, driver %d\n",
              info.name, info.computeCapabilityMajor,
              info.computeCapabilityMinor, info.multiprocessorCount,
              info.l2CacheBytes / 1048576.0, info.driverVersion);
  std::fflush(stdout);

  FILE *json = nullptr;
  std::string jsonTemp = jsonPath + ".part";
  if (!jsonPath.empty() && !(json = std::fopen(jsonTemp.c_str(), "w")))
    die("cannot write '" + jsonTemp + "'");

  // References are computed ahead on CPU threads while the GPU runs.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned lookahead = std::min(4u, cores);
  unsigned threadsPerCase = std::max(1u, cores / lookahead);
  std::deque<std::future<llvm::Expected<KernelCase>>> pending;
  size_t next = 0;
  auto enqueue = [&] {
    while (pending.size() < lookahead && next < entries.size()) {
      const Entry entry = entries[next++];
      pending.push_back(std::async(
          std::launch::async,
          [entry, threadsPerCase]() -> llvm::Expected<KernelCase> {
            if (entry.mode == "rotate")
              return KernelCase();
            llvm::Expected<QuantizerSpec> spec =
                QuantizerSpec::parse(entry.quantizer);
            if (!spec)
              return spec.takeError();
            return makeKernelCase(*spec, entry.rows, entry.cols, entry.batch,
                                  /*seed=*/1000 + entry.line,
                                  entry.mode == "check", threadsPerCase);
          }));
    }
  };

  std::map<std::string, qpalrtModule *> modules;
  std::map<size_t, std::vector<qpalrtBuffer *>> codeSets;
  struct FamilyTally {
    int ok = 0, failed = 0;
    double worst = 0; // NaN once any error was NaN
    void add(bool passed, double error) {
      (passed ? ok : failed) += 1;
      worst =
          std::isnan(error) || std::isnan(worst) ? NAN : std::max(worst, error);
    }
  };
  std::map<std::string, FamilyTally> tallies;
  int failures = 0;
  enqueue();
  for (const Entry &entry : entries) {
    llvm::Expected<KernelCase> made = pending.front().get();
    pending.pop_front();
    enqueue();
    std::string where = manifest + ":" + std::to_string(entry.line);
    if (!made)
      die(where + ": " + llvm::toString(made.takeError()));
    KernelCase &data = *made;

    qpalrtModule *&module = modules[entry.cubin];
    if (!module && qpalrtLoadModule(context, entry.cubin.c_str(), &module) !=
                       QPALRT_SUCCESS)
      die(where + ": " + lastError());
    qpalrtFunction *function = nullptr;
    if (qpalrtGetFunction(module, entry.kernel.c_str(), &function) !=
        QPALRT_SUCCESS)
      die(where + ": " + lastError());
    qpalrtLaunchConfig config = {};
    config.grid[0] = entry.grid;
    config.grid[1] = config.grid[2] = 1;
    config.block[0] = entry.block;
    config.block[1] = config.block[2] = 1;

    if (entry.mode == "rotate") {
      double error = checkRotation(context, function, config, entry);
      bool ok = error < 1e-5; // float32 butterflies; false for NaN
      tallies["rotation default"].add(ok, error);
      if (!ok) {
        ++failures;
        std::printf("FAIL rotation %lld columns batch %lld: max relative "
                    "error %.3e\n",
                    (long long)entry.cols, (long long)entry.batch, error);
      }
      if (json)
        std::fprintf(json,
                     "{\"mode\":\"rotate\",\"cols\":%lld,\"batch\":%lld,"
                     "\"max_rel_err\":%.6e,\"ok\":%s}\n",
                     (long long)entry.cols, (long long)entry.batch, error,
                     ok ? "true" : "false");
      continue;
    }
    llvm::Expected<QuantizerSpec> spec = QuantizerSpec::parse(entry.quantizer);
    if (!spec)
      die(where + ": " + llvm::toString(spec.takeError()));

    if (entry.mode == "check") {
      Buffers buffers = uploadCase(context, data, entry, 1);
      qpalrtBuffer *args[5] = {buffers.x, buffers.codes[0], buffers.codebook,
                               buffers.scales, buffers.y};
      if (qpalrtLaunch(function, &config, args, 5) != QPALRT_SUCCESS ||
          qpalrtSynchronize(context) != QPALRT_SUCCESS)
        die(where + ": the kernel failed: " + lastError());
      std::vector<float> y(data.y0.size());
      if (qpalrtDownload(buffers.y, y.data(), y.size() * 4, 0) !=
          QPALRT_SUCCESS)
        die(where + ": cannot read the result: " + lastError());
      buffers.release();
      double error = maxRelativeError(data, y);
      bool ok = error < 1e-3; // false for NaN
      std::string family = spec->familyInfo().mnemonic().str() +
                           (spec->kernel == KernelKind::Simt ? "_simt" : "") +
                           " " + entry.variant;
      tallies[family].add(ok, error);
      if (!ok) {
        ++failures;
        std::printf("FAIL %s %lldx%lld batch %lld (%s): max relative error "
                    "%.3e\n",
                    entry.quantizer.c_str(), (long long)entry.rows,
                    (long long)entry.cols, (long long)entry.batch,
                    entry.variant.c_str(), error);
      }
      if (json)
        std::fprintf(json,
                     "{\"mode\":\"check\",\"quantizer\":\"%s\",\"rows\":%lld,"
                     "\"cols\":%lld,\"batch\":%lld,\"variant\":\"%s\","
                     "\"max_rel_err\":%.6e,\"ok\":%s}\n",
                     jsonEscape(entry.quantizer).c_str(), (long long)entry.rows,
                     (long long)entry.cols, (long long)entry.batch,
                     jsonEscape(entry.variant).c_str(), error,
                     ok ? "true" : "false");
      continue;
    }

    // Enough copies of the codes that one round reads over 4x the L2.
    double codeBytes = static_cast<double>(data.codes.size());
    double l2 = info.l2CacheBytes ? double(info.l2CacheBytes) : 64e6;
    size_t sets = static_cast<size_t>(
        std::clamp(std::ceil(4 * l2 / codeBytes), 1.0, 64.0));
    // Code buffers of one size are uploaded once and shared by the kernels
    // that read that many bytes (batches, variants, transposed shapes).
    std::vector<qpalrtBuffer *> &codeSet = codeSets[data.codes.size()];
    while (codeSet.size() < sets)
      codeSet.push_back(
          uploadBytes(context, data.codes.data(), data.codes.size(), entry));
    Buffers buffers = uploadCase(context, data, entry, 0);
    std::vector<qpalrtBuffer *> args;
    for (size_t set = 0; set < sets; ++set)
      args.insert(args.end(), {buffers.x, codeSet[set], buffers.codebook,
                               buffers.scales, buffers.y});
    double probe = 0;
    int graph = 0;
    if (qpalrtTimeLaunchSets(function, &config, args.data(), 5, sets, 1, &probe,
                             &graph) != QPALRT_SUCCESS)
      die(where + ": cannot time the kernel: " + lastError());
    // About 10 ms of launches per measurement; the median of 3.
    int iterations =
        static_cast<int>(std::clamp(10000.0 / (probe * sets), 2.0, 2000.0));
    std::vector<double> times;
    for (int repeat = 0; repeat < 3; ++repeat) {
      double microseconds = 0;
      if (qpalrtTimeLaunchSets(function, &config, args.data(), 5, sets,
                               iterations, &microseconds,
                               &graph) != QPALRT_SUCCESS)
        die(where + ": cannot time the kernel: " + lastError());
      times.push_back(microseconds);
    }
    buffers.release();
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    double bytes =
        static_cast<double>(spec->storageBytes(entry.rows, entry.cols));
    double gbps = bytes / (median * 1e-6) / 1e9;
    char row[512];
    std::snprintf(row, sizeof(row),
                  "| %s | %lldx%lld | %lld | %s | %.2f | %.1f | %.2f-%.2f |",
                  entry.quantizer.c_str(), (long long)entry.rows,
                  (long long)entry.cols, (long long)entry.batch,
                  entry.variant.c_str(), median, gbps, times.front(),
                  times.back());
    std::printf("%s\n", row);
    std::fflush(stdout);
    if (json)
      std::fprintf(json,
                   "{\"mode\":\"bench\",\"quantizer\":\"%s\",\"rows\":%lld,"
                   "\"cols\":%lld,\"batch\":%lld,\"variant\":\"%s\","
                   "\"microseconds\":%.4f,\"min_us\":%.4f,\"max_us\":%.4f,"
                   "\"gbps\":%.3f,\"storage_bytes\":%.0f,\"sets\":%zu,"
                   "\"iterations\":%d,\"graph\":%s,\"grid\":%u,\"block\":%u}\n",
                   jsonEscape(entry.quantizer).c_str(), (long long)entry.rows,
                   (long long)entry.cols, (long long)entry.batch,
                   jsonEscape(entry.variant).c_str(), median, times.front(),
                   times.back(), gbps, bytes, sets, iterations,
                   graph ? "true" : "false", entry.grid, entry.block);
  }

  if (!tallies.empty()) {
    std::printf("\n| family | variant | kernels ok | failed | worst max rel "
                "err |\n|---|---|---|---|---|\n");
    for (const auto &[family, tally] : tallies) {
      size_t space = family.find(' ');
      std::printf("| %s | %s | %d | %d | %.2e |\n",
                  family.substr(0, space).c_str(),
                  family.substr(space + 1).c_str(), tally.ok, tally.failed,
                  tally.worst);
    }
  }
  if (json) {
    std::fclose(json);
    if (std::rename(jsonTemp.c_str(), jsonPath.c_str()) != 0)
      die("cannot rename '" + jsonTemp + "' to '" + jsonPath + "'");
  }
  qpalrtDestroyContext(context);
  std::printf("\nqpal-gpu-kernels: %zu kernels, %d failed\n", entries.size(),
              failures);
  return failures ? 1 : 0;
}
