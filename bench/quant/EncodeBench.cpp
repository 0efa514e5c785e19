//===- EncodeBench.cpp - TCQ encoder throughput ---------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Prints a Markdown table of the Viterbi encoder's throughput at several KV
// on a seeded Gaussian matrix, and the time of one whole-layer quantization
// (rotation, scales, encoding, packing) of a 4096 x 4096 weight with tcq_6.
// Both wall-clock and process CPU time are reported, since the machine may
// be shared: CPU time / threads is what the wall time would be on idle
// cores.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Quantize.h"
#include "qpal/Quant/Random.h"
#include "qpal/Quant/Viterbi.h"
#include "qpal/Support/Limits.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>
#include <tuple>

using namespace qpal;

namespace {
/// Command-line settings (parsed by hand: libLLVM already registers
/// cl::opt names such as `threads`).
struct Settings {
  unsigned threads = 2;
  int64_t rows = 1024, cols = 1024;
  std::vector<unsigned> kvs = {4, 6, 8};
  int64_t layerSize = 4096;
  std::string simd;
};

const char *const kUsage =
    "usage: qpal-bench-encode [--threads N] [--rows M] [--cols K]\n"
    "                         [--kv 4,6,8] [--layer-size 4096 (0 skips)]\n"
    "                         [--simd scalar|avx2|avx512]\n";

bool parseSettings(int argc, char **argv, Settings &settings) {
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i], value;
    if (arg.contains('=')) {
      std::tie(arg, value) = arg.split('=');
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return false;
    }
    bool bad = false;
    if (arg == "--threads")
      bad = value.getAsInteger(10, settings.threads);
    else if (arg == "--rows")
      bad = value.getAsInteger(10, settings.rows);
    else if (arg == "--cols")
      bad = value.getAsInteger(10, settings.cols);
    else if (arg == "--layer-size")
      bad = value.getAsInteger(10, settings.layerSize);
    else if (arg == "--simd")
      settings.simd = value.str();
    else if (arg == "--kv") {
      settings.kvs.clear();
      llvm::SmallVector<llvm::StringRef> parts;
      value.split(parts, ',');
      for (llvm::StringRef part : parts) {
        unsigned kv;
        bad |= part.getAsInteger(10, kv);
        settings.kvs.push_back(kv);
      }
    } else {
      bad = true;
    }
    if (bad)
      return false;
  }
  return true;
}
} // namespace

namespace {
/// Wall-clock and process CPU seconds of one call.
struct Timing {
  double wall = 0, cpu = 0;
};

template <typename Fn> Timing timeIt(Fn fn) {
  auto start = std::chrono::steady_clock::now();
  std::clock_t cpuStart = std::clock();
  fn();
  Timing t;
  t.wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  t.cpu = static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
  return t;
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one.empty() ? "n/a" : one + " " + five + " " + fifteen;
}
} // namespace

int main(int argc, char **argv) {
  Settings settings;
  if (!parseSettings(argc, argv, settings)) {
    llvm::errs() << kUsage;
    return 1;
  }
  if (llvm::Error err = qpal::checkMatrixShape("--rows and --cols",
                                               settings.rows, settings.cols)) {
    llvm::errs() << "qpal-bench-encode: error: "
                 << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  if (settings.layerSize != 0)
    if (llvm::Error err = qpal::checkMatrixShape(
            "--layer-size", settings.layerSize, settings.layerSize)) {
      llvm::errs() << "qpal-bench-encode: error: "
                   << llvm::toString(std::move(err)) << "\n";
      return 1;
    }
  const unsigned threads = settings.threads;
  const int64_t rows = settings.rows, cols = settings.cols;
  const int64_t layerSize = settings.layerSize;
  const std::string &simd = settings.simd;
  std::optional<SimdLevel> level;
  if (simd == "scalar")
    level = SimdLevel::Scalar;
  else if (simd == "avx2")
    level = SimdLevel::Avx2;
  else if (simd == "avx512")
    level = SimdLevel::Avx512;
  else if (!simd.empty()) {
    llvm::errs() << "unknown --simd '" << simd << "'\n";
    return 1;
  }
  SimdLevel used = level.value_or(detectSimdLevel());
  const std::vector<unsigned> &kvList = settings.kvs;

  llvm::outs() << "threads " << threads << ", step kernel "
               << stringifySimdLevel(used) << ", hardware threads "
               << std::thread::hardware_concurrency() << ", load average "
               << loadAverage() << "\n\n";

  std::vector<float> weights(static_cast<size_t>(rows * cols));
  fillGaussian(weights.data(), rows * cols, 1);
  for (float &w : weights)
    w *= 0.9f; // the reference's TCQ input scale
  llvm::outs() << "| KV | T | matrix | tiles | wall s | CPU s | weights/s "
                  "(wall) | weights/s (CPU/threads) | ms CPU/tile | ns "
                  "CPU/state-step |\n"
               << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (unsigned kv : kvList) {
    unsigned tlutBits = defaultTlutBits(kv);
    auto table = TcqStateTable::shipped(tlutBits);
    if (!table) {
      llvm::errs() << llvm::toString(table.takeError()) << "\n";
      return 1;
    }
    TcqEncodeOptions options;
    options.threads = threads;
    options.simd = level;
    llvm::Expected<std::vector<uint16_t>> states = std::vector<uint16_t>();
    Timing t = timeIt([&] {
      states =
          encodeTcqStates(weights.data(), rows, cols, kv, **table, options);
    });
    if (!states) {
      llvm::errs() << llvm::toString(states.takeError()) << "\n";
      return 1;
    }
    double tiles = static_cast<double>(rows * cols) / 256;
    double stateSteps = tiles * 2 * 128 * 65536;
    llvm::outs() << "| " << kv << " | " << tlutBits << " | " << rows << "x"
                 << cols << " | " << static_cast<int64_t>(tiles) << " | "
                 << llvm::format("%.2f", t.wall) << " | "
                 << llvm::format("%.2f", t.cpu) << " | "
                 << llvm::format("%.3g", rows * cols / t.wall) << " | "
                 << llvm::format("%.3g", rows * cols / (t.cpu / threads))
                 << " | " << llvm::format("%.2f", 1e3 * t.cpu / tiles) << " | "
                 << llvm::format("%.3f", 1e9 * t.cpu / stateSteps) << " |\n";
  }

  if (layerSize > 0) {
    std::vector<float> layer(static_cast<size_t>(layerSize * layerSize));
    fillGaussian(layer.data(), layerSize * layerSize, 2);
    for (float &w : layer)
      w *= 0.02f;
    QuantizeOptions options;
    options.threads = threads;
    options.simd = level;
    llvm::Expected<QuantizedLayer> result = QuantizedLayer();
    Timing t = timeIt([&] {
      result = quantizeLayer(QuantizerSpec::tcq(6), layer.data(), layerSize,
                             layerSize, options);
    });
    if (!result) {
      llvm::errs() << llvm::toString(result.takeError()) << "\n";
      return 1;
    }
    llvm::outs() << "\nquantizeLayer(tcq_6_none_0.9, " << layerSize << "x"
                 << layerSize << ", " << threads << " threads): wall "
                 << llvm::format("%.1f", t.wall) << " s, CPU "
                 << llvm::format("%.1f", t.cpu) << " s (CPU/threads "
                 << llvm::format("%.1f", t.cpu / threads) << " s), "
                 << result->codes.size() << " code bytes\n";
  }
  llvm::outs() << "load average after: " << loadAverage() << "\n";
  return 0;
}
