//===- Package.h - Compiled-model packages and sessions ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Private to the runtime. Package.cpp maps and checks a package file (the
// layout of qpalpkg.h) and loads its code (for an nvptx package, with its
// weights in device memory); Manifest.cpp reads and checks the manifest;
// Session.cpp runs tokens through the entry points. Uses the
// C++ standard library alone.
//
//===----------------------------------------------------------------------===//

#ifndef QPALRT_LIB_PACKAGE_H
#define QPALRT_LIB_PACKAGE_H

#include "qpalpkg.h"
#include "qpalrt.h"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace qpalrt {

struct GpuAbiState;

/// One entry point of a package: a step function for a batch size.
struct EntryPoint {
  /// Tokens per call.
  int64_t batch = 0;
  /// The exported C symbol.
  std::string symbol;
  /// The resolved function; null until the code is loaded.
  qpalpkgStepFn function = nullptr;
};

/// What the manifest says, checked: every size positive and consistent.
struct Manifest {
  /// "format_version".
  int64_t formatVersion = 0;
  /// "qpal_version", "target" and "chip".
  std::string qpalVersion, target, chip;
  /// An nvptx package's chip as a compute capability (90 for "sm_90"); 0
  /// for the CPU.
  int chipCapability = 0;
  /// "model": "name" and "architecture".
  std::string name, architecture;
  /// "model": the hyper-parameters (hiddenSize and heads may be 0 when
  /// left out; the others are required).
  int64_t vocabSize = 0, hiddenSize = 0, layers = 0, heads = 0, kvHeads = 0,
          headDim = 0, contextLength = 0;
  /// "kv_cache": planes (2 x layers) and width (kvHeads x headDim).
  int64_t planes = 0, width = 0;
  /// "entry_points", batch 1 among them, in the order written.
  std::vector<EntryPoint> entryPoints;
  /// "bits_per_weight" (0 when left out).
  double bitsPerWeight = 0.0;
};

/// Parses the manifest `text` and checks it against the header's
/// `formatVersion`. Failures go through fail(): QPALRT_ERROR_FORMAT, or
/// QPALRT_ERROR_UNSUPPORTED for a target this runtime cannot run.
qpalrtStatus parseManifest(std::string_view text, uint32_t formatVersion,
                           Manifest &out);

/// One section of a mapped package.
struct PackageSection {
  /// The name, without padding.
  std::string name;
  /// Its bytes in the mapping.
  const unsigned char *data = nullptr;
  /// Its size.
  uint64_t bytes = 0;
  /// The checksum its table entry records.
  uint64_t checksum = 0;
};

} // namespace qpalrt

/// An opened package: the read-only mapping, its sections, the manifest and
/// the loaded code.
struct qpalrtPackage {
  /// The file, for messages.
  std::string path;
  /// The read-only mapping of the whole file.
  void *mapping = nullptr;
  /// The file's size.
  size_t fileBytes = 0;
  /// The sections in table order.
  std::vector<qpalrt::PackageSection> sections;
  /// The checked manifest; its entry points resolved.
  qpalrt::Manifest manifest;
  /// The "weights" section: the arena every entry point reads.
  const qpalrt::PackageSection *weights = nullptr;
  /// The CPU context that holds the code module.
  qpalrtContext *context = nullptr;
  /// The "code.<target>" shared object.
  qpalrtModule *module = nullptr;
  /// An nvptx package's CUDA context: the device memory of the weights and
  /// the sessions. Null for the CPU.
  qpalrtContext *device = nullptr;
  /// An nvptx package's weights, uploaded once when it is opened.
  qpalrtBuffer *deviceWeights = nullptr;
  /// Owned: what the code's mgpu* calls work on (GpuAbi.h); null for the
  /// CPU.
  qpalrt::GpuAbiState *gpu = nullptr;
  /// The entry point with the largest batch.
  const qpalrt::EntryPoint *largest = nullptr;
  /// The entry point of batch 1.
  const qpalrt::EntryPoint *single = nullptr;
  /// Recorded by qpalrtSetThreads.
  int threads = 0;
  /// The code's optional `void qpal_set_threads(int)` (its thread pool).
  void (*setThreads)(int) = nullptr;
  /// Owned; destroyed with the package.
  std::set<qpalrtSession *> sessions;
};

/// A sequence's KV cache and position.
struct qpalrtSession {
  /// The package it runs.
  qpalrtPackage *package = nullptr;
  /// The positions the cache holds.
  int64_t maxTokens = 0;
  /// The next token's position.
  int64_t position = 0;
  /// f32 [planes][maxTokens][width], an anonymous mapping (page aligned).
  float *cache = nullptr;
  /// The mapping's size.
  size_t cacheBytes = 0;
  /// f32 [largest batch][vocab], 64-byte aligned: the entry points'
  /// output, copied out to the caller.
  float *logits = nullptr;
  /// int32 [largest batch], 64-byte aligned: the entry points' input.
  int32_t *tokens = nullptr;
  /// An nvptx package's session keeps the cache, the logits and the tokens
  /// (same shapes) in device memory instead, and the three above are null.
  qpalrtBuffer *deviceCache = nullptr, *deviceLogits = nullptr,
               *deviceTokens = nullptr;
};

#endif // QPALRT_LIB_PACKAGE_H
