//===- qpalrt-info.cpp - Print the devices the qpal runtime sees ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Prints every device the runtime can create a context on, or why a kind of
// device is not available:
//
//   CPU 0: AMD EPYC, 16 cores, 125.8 GiB, features: sse4.2 avx avx2 fma
//   CUDA: not available (no CUDA driver (libcuda.so.1 not found): ...)
//
// Exits with 0 whether or not a GPU is present; 1 if the CPU fails.
//
//===----------------------------------------------------------------------===//

#include "qpalrt.h"

#include <cstdio>

namespace {

double gib(uint64_t bytes) { return double(bytes) / (1024.0 * 1024 * 1024); }

/// Prints one device's line; false if its context could not be created.
bool printDevice(qpalrtDeviceKind kind, int ordinal) {
  const char *kindName = kind == QPALRT_DEVICE_CUDA ? "CUDA" : "CPU";
  qpalrtContext *context = nullptr;
  qpalrtDeviceInfo info;
  if (qpalrtCreateContext(kind, ordinal, &context) != QPALRT_SUCCESS ||
      qpalrtGetDeviceInfo(context, &info) != QPALRT_SUCCESS) {
    std::printf("%s %d: error (%s)\n", kindName, ordinal, qpalrtGetLastError());
    qpalrtDestroyContext(context);
    return false;
  }
  qpalrtDestroyContext(context);
  if (kind == QPALRT_DEVICE_CPU) {
    std::printf("CPU %d: %s, %d cores, %.1f GiB, L2 %llu KiB, features: %s\n",
                ordinal, info.name, info.multiprocessorCount,
                gib(info.totalMemoryBytes),
                (unsigned long long)(info.l2CacheBytes / 1024),
                info.features[0] ? info.features : "(none)");
    return true;
  }
  std::printf("CUDA %d: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %llu KiB, "
              "shared memory per block %llu KiB, driver %d.%d\n",
              ordinal, info.name, info.computeCapabilityMajor,
              info.computeCapabilityMinor, info.multiprocessorCount,
              gib(info.totalMemoryBytes),
              (unsigned long long)(info.l2CacheBytes / 1024),
              (unsigned long long)(info.maxSharedMemoryPerBlock / 1024),
              info.driverVersion / 1000, info.driverVersion % 1000 / 10);
  return true;
}

} // namespace

int main() {
  bool cpuOk = printDevice(QPALRT_DEVICE_CPU, 0);
  int count = 0;
  if (qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &count) != QPALRT_SUCCESS) {
    std::printf("CUDA: not available (%s)\n", qpalrtGetLastError());
    return cpuOk ? 0 : 1;
  }
  for (int ordinal = 0; ordinal < count; ++ordinal)
    printDevice(QPALRT_DEVICE_CUDA, ordinal);
  return cpuOk ? 0 : 1;
}
