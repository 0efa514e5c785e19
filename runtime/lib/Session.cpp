//===- Session.cpp - Run tokens through a package's entry points ----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A session owns one sequence's KV cache (f32 [planes][maxTokens][width],
// an anonymous mapping, so page aligned and zero until written) and the
// scratch the entry points read and write. A run checks every token and the
// room left in the cache before the first call, then calls the entry point
// of the largest batch while that many tokens remain and the batch-1 entry
// point for the rest, with memref descriptors (qpalpkg.h) over the arena,
// the tokens, the cache and the logits. A session of an nvptx package keeps
// the cache, the tokens and the logits in device memory, passes their device
// addresses, and downloads only the logits the caller asks for.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"
#include "GpuAbi.h"
#include "Package.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <sys/mman.h>

using namespace qpalrt;

namespace {

constexpr size_t kAlignment = 64;

/// Returns INVALID_ARGUMENT naming `what` if `pointer` is null.
qpalrtStatus checkNotNull(const void *pointer, const char *what,
                          const char *entryPoint) {
  if (pointer)
    return QPALRT_SUCCESS;
  return fail(QPALRT_ERROR_INVALID_ARGUMENT, "%s: '%s' is null", entryPoint,
              what);
}

/// Sets `product` to the product of `factors` unless it overflows size_t.
bool multiply(size_t &product, std::initializer_list<uint64_t> factors) {
  uint64_t result = 1;
  for (uint64_t factor : factors)
    if (__builtin_mul_overflow(result, factor, &result))
      return false;
  if (result > SIZE_MAX)
    return false;
  product = size_t(result);
  return true;
}

/// 64-byte aligned memory of at least `bytes` (> 0), or null.
void *allocateAligned(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  return rounded >= bytes ? std::aligned_alloc(kAlignment, rounded) : nullptr;
}

/// Frees what `session` holds (not the object).
qpalrtStatus release(qpalrtSession &session) {
  if (session.cache)
    munmap(session.cache, session.cacheBytes);
  std::free(session.logits);
  std::free(session.tokens);
  session.cache = nullptr;
  session.logits = nullptr;
  session.tokens = nullptr;
  qpalrtStatus first = QPALRT_SUCCESS;
  for (qpalrtBuffer **buffer :
       {&session.deviceCache, &session.deviceLogits, &session.deviceTokens}) {
    qpalrtStatus s = qpalrtFree(*buffer);
    first = first ? first : s;
    *buffer = nullptr;
  }
  return first;
}

/// A pointer in a descriptor for a device address.
void *devicePointer(const qpalrtBuffer *buffer) {
  return reinterpret_cast<void *>(uintptr_t(buffer->address));
}

/// Allocates the device memory of an nvptx package's session: the cache
/// (zeroed), the logits and the tokens.
qpalrtStatus allocateOnDevice(qpalrtSession &session, size_t cacheBytes,
                              size_t logitsBytes, size_t tokensBytes) {
  qpalrtPackage &package = *session.package;
  const char *entryPoint = "qpalrtCreateSession";
  if (qpalrtStatus s =
          qpalrtAlloc(package.device, cacheBytes, &session.deviceCache)) {
    std::string message = qpalrtGetLastError();
    return fail(s, "%s: cannot allocate a KV cache of %zu bytes on the GPU: %s",
                entryPoint, cacheBytes, message.c_str());
  }
  if (qpalrtStatus s =
          qpalrtAlloc(package.device, logitsBytes, &session.deviceLogits)) {
    std::string message = qpalrtGetLastError();
    return fail(s, "%s: cannot allocate %zu bytes of logits on the GPU: %s",
                entryPoint, logitsBytes, message.c_str());
  }
  if (qpalrtStatus s =
          qpalrtAlloc(package.device, tokensBytes, &session.deviceTokens))
    return s;
  // The code reads only rows it wrote; zero, as on the CPU, all the same.
  return zeroDeviceMemory(*package.gpu, session.deviceCache->address,
                          cacheBytes);
}

/// Calls `entry` at the session's position with descriptors over `arena`
/// (the weights), `ids` (entry.batch tokens), `cache` and `logits`: host
/// pointers for a cpu package, device addresses for an nvptx one.
void callEntry(const qpalrtSession &session, const EntryPoint &entry,
               void *arena, void *ids, void *cache, void *logits) {
  const qpalrtPackage &package = *session.package;
  const Manifest &manifest = package.manifest;
  qpalpkgMemRef1D arenaRef = {
      arena, arena, 0, {int64_t(package.weights->bytes)}, {1}};
  qpalpkgMemRef1D tokensRef = {ids, ids, 0, {entry.batch}, {1}};
  qpalpkgMemRef3D cacheRef = {
      cache,
      cache,
      0,
      {manifest.planes, session.maxTokens, manifest.width},
      {session.maxTokens * manifest.width, manifest.width, 1}};
  qpalpkgMemRef2D logitsRef = {logits,
                               logits,
                               0,
                               {entry.batch, manifest.vocabSize},
                               {manifest.vocabSize, 1}};
  entry.function(&arenaRef, &tokensRef, session.position, &cacheRef,
                 &logitsRef);
}

/// Calls `entry` on the `entry.batch` tokens at `tokens`, at the session's
/// position, and advances it; the logits are left in `session.logits`.
void step(qpalrtSession &session, const EntryPoint &entry,
          const int32_t *tokens) {
  const qpalrtPackage &package = *session.package;
  std::memcpy(session.tokens, tokens, size_t(entry.batch) * sizeof(int32_t));
  // The arena is the read-only mapping; the ABI's descriptors are not const.
  callEntry(session, entry, const_cast<unsigned char *>(package.weights->data),
            session.tokens, session.cache, session.logits);
  session.position += entry.batch;
}

/// The same for an nvptx package: the tokens go to device memory first,
/// every descriptor holds device addresses, and the code's first mgpu*
/// failure is the result. The logits stay in `session.deviceLogits`.
qpalrtStatus stepOnDevice(qpalrtSession &session, const EntryPoint &entry,
                          const int32_t *tokens) {
  const qpalrtPackage &package = *session.package;
  if (qpalrtStatus s = qpalrtUpload(session.deviceTokens, tokens,
                                    size_t(entry.batch) * sizeof(int32_t), 0))
    return s;
  GpuAbiScope scope(*package.gpu);
  if (!scope.status())
    runStep(*package.gpu, [&] {
      callEntry(session, entry, devicePointer(package.deviceWeights),
                devicePointer(session.deviceTokens),
                devicePointer(session.deviceCache),
                devicePointer(session.deviceLogits));
    });
  if (scope.status())
    return fail(scope.status(),
                "qpalrtSessionRun: '%s' (batch %lld) at position %lld "
                "failed: %s",
                entry.symbol.c_str(), static_cast<long long>(entry.batch),
                static_cast<long long>(session.position),
                scope.message().c_str());
  session.position += entry.batch;
  return QPALRT_SUCCESS;
}

/// Runs `count` checked tokens on an nvptx package and downloads the logits
/// the caller asked for. On a failure the position goes back to where the
/// run started: the rows the run wrote are written again by the next.
qpalrtStatus runOnDevice(qpalrtSession &session, const int32_t *tokens,
                         int64_t count, float *logits, int lastOnly) {
  const qpalrtPackage &package = *session.package;
  const int64_t vocab = package.manifest.vocabSize;
  const size_t rowBytes = size_t(vocab) * sizeof(float);
  const int64_t start = session.position;
  for (int64_t done = 0; done < count;) {
    const EntryPoint &entry = count - done >= package.largest->batch
                                  ? *package.largest
                                  : *package.single;
    qpalrtStatus s = stepOnDevice(session, entry, tokens + done);
    if (!s && logits && !lastOnly)
      s = qpalrtDownload(session.deviceLogits, logits + done * vocab,
                         size_t(entry.batch) * rowBytes, 0);
    done += entry.batch;
    if (!s && logits && lastOnly && done == count)
      s = qpalrtDownload(session.deviceLogits, logits, rowBytes,
                         size_t(entry.batch - 1) * rowBytes);
    if (s) {
      session.position = start;
      return s;
    }
  }
  return QPALRT_SUCCESS;
}

} // namespace

qpalrtStatus qpalrtCreateSession(qpalrtPackage *package, int64_t maxTokens,
                                 qpalrtSession **out) {
  const char *entryPoint = "qpalrtCreateSession";
  if (qpalrtStatus s = checkNotNull(package, "package", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(out, "out", entryPoint))
    return s;
  if (!package->module)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: '%s' was opened by qpalrtInspectPackage, without its "
                "code",
                entryPoint, package->path.c_str());
  const Manifest &manifest = package->manifest;
  if (maxTokens < 1 || maxTokens > manifest.contextLength)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: maxTokens %lld is outside [1, %lld], the model's context "
                "length",
                entryPoint, static_cast<long long>(maxTokens),
                static_cast<long long>(manifest.contextLength));
  size_t cacheBytes, logitsBytes, tokensBytes;
  if (!multiply(cacheBytes, {uint64_t(manifest.planes), uint64_t(maxTokens),
                             uint64_t(manifest.width), sizeof(float)}) ||
      !multiply(logitsBytes, {uint64_t(package->largest->batch),
                              uint64_t(manifest.vocabSize), sizeof(float)}) ||
      !multiply(tokensBytes,
                {uint64_t(package->largest->batch), sizeof(int32_t)}))
    return fail(QPALRT_ERROR_OUT_OF_MEMORY,
                "%s: a KV cache of %lld x %lld x %lld floats does not fit in "
                "memory",
                entryPoint, static_cast<long long>(manifest.planes),
                static_cast<long long>(maxTokens),
                static_cast<long long>(manifest.width));
  auto session = std::make_unique<qpalrtSession>();
  session->package = package;
  session->maxTokens = maxTokens;
  if (package->gpu) {
    if (qpalrtStatus s =
            allocateOnDevice(*session, cacheBytes, logitsBytes, tokensBytes)) {
      std::string message = qpalrtGetLastError();
      release(*session);
      return fail(s, "%s", message.c_str());
    }
    *out = session.get();
    package->sessions.insert(session.release());
    return QPALRT_SUCCESS;
  }
  void *cache = mmap(nullptr, cacheBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (cache == MAP_FAILED)
    return fail(QPALRT_ERROR_OUT_OF_MEMORY,
                "%s: cannot map a KV cache of %zu bytes", entryPoint,
                cacheBytes);
  session->cache = static_cast<float *>(cache);
  session->cacheBytes = cacheBytes;
  session->logits = static_cast<float *>(allocateAligned(logitsBytes));
  session->tokens = static_cast<int32_t *>(allocateAligned(tokensBytes));
  if (!session->logits || !session->tokens) {
    release(*session);
    return fail(QPALRT_ERROR_OUT_OF_MEMORY,
                "%s: cannot allocate %zu bytes of logits", entryPoint,
                logitsBytes);
  }
  *out = session.get();
  package->sessions.insert(session.release());
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtDestroySession(qpalrtSession *session) {
  if (!session)
    return QPALRT_SUCCESS;
  session->package->sessions.erase(session);
  qpalrtStatus s = release(*session);
  delete session;
  return s;
}

qpalrtStatus qpalrtSessionReset(qpalrtSession *session) {
  if (qpalrtStatus s = checkNotNull(session, "session", "qpalrtSessionReset"))
    return s;
  session->position = 0;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtSessionGetPosition(const qpalrtSession *session,
                                      int64_t *position) {
  const char *entryPoint = "qpalrtSessionGetPosition";
  if (qpalrtStatus s = checkNotNull(session, "session", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(position, "position", entryPoint))
    return s;
  *position = session->position;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtSessionRun(qpalrtSession *session, const int32_t *tokens,
                              int64_t count, float *logits, int lastOnly) {
  const char *entryPoint = "qpalrtSessionRun";
  if (qpalrtStatus s = checkNotNull(session, "session", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(tokens, "tokens", entryPoint))
    return s;
  if (count < 1)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: count must be at least 1, got %lld", entryPoint,
                static_cast<long long>(count));
  if (count > session->maxTokens - session->position)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: %lld tokens at position %lld exceed the session's %lld "
                "positions",
                entryPoint, static_cast<long long>(count),
                static_cast<long long>(session->position),
                static_cast<long long>(session->maxTokens));
  const qpalrtPackage &package = *session->package;
  const int64_t vocab = package.manifest.vocabSize;
  for (int64_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                  "%s: token %lld is %d, outside the vocabulary [0, %lld)",
                  entryPoint, static_cast<long long>(i), tokens[i],
                  static_cast<long long>(vocab));

  if (package.gpu)
    return runOnDevice(*session, tokens, count, logits, lastOnly);
  const size_t rowBytes = size_t(vocab) * sizeof(float);
  for (int64_t done = 0; done < count;) {
    const EntryPoint &entry = count - done >= package.largest->batch
                                  ? *package.largest
                                  : *package.single;
    step(*session, entry, tokens + done);
    if (logits && !lastOnly)
      std::memcpy(logits + done * vocab, session->logits,
                  size_t(entry.batch) * rowBytes);
    done += entry.batch;
    if (logits && lastOnly && done == count)
      std::memcpy(logits, session->logits + (entry.batch - 1) * vocab,
                  rowBytes);
  }
  return QPALRT_SUCCESS;
}
