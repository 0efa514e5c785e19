//===- Runtime.cpp - The C entry points of the qpal runtime ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Checks every argument, owns the objects, and forwards to the context's
// backend. Nothing here depends on the device kind.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace qpalrt;

namespace {

thread_local std::string lastError;

const char *kindName(qpalrtDeviceKind kind) {
  return kind == QPALRT_DEVICE_CUDA ? "CUDA" : "CPU";
}

/// Returns INVALID_ARGUMENT naming `what` if `pointer` is null.
qpalrtStatus checkNotNull(const void *pointer, const char *what,
                          const char *entryPoint) {
  if (pointer)
    return QPALRT_SUCCESS;
  return fail(QPALRT_ERROR_INVALID_ARGUMENT, "%s: '%s' is null", entryPoint,
              what);
}

/// Checks that [offset, offset + bytes) lies in `buffer`.
qpalrtStatus checkRange(const qpalrtBuffer *buffer, size_t bytes, size_t offset,
                        const char *entryPoint) {
  if (offset <= buffer->size && bytes <= buffer->size - offset)
    return QPALRT_SUCCESS;
  return fail(QPALRT_ERROR_INVALID_ARGUMENT,
              "%s: %zu bytes at offset %zu exceed the buffer of %zu bytes",
              entryPoint, bytes, offset, buffer->size);
}

/// Checks a launch and gathers the buffers' addresses into `args`.
qpalrtStatus checkLaunch(const qpalrtFunction *function,
                         const qpalrtLaunchConfig *config,
                         qpalrtBuffer *const *buffers, size_t numBuffers,
                         Address *args, const char *entryPoint) {
  if (qpalrtStatus s = checkNotNull(function, "function", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(config, "config", entryPoint))
    return s;
  for (int d = 0; d < 3; ++d)
    if (config->grid[d] == 0 || config->block[d] == 0)
      return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                  "%s: launch of '%s' with an empty grid (%u, %u, %u) or "
                  "block (%u, %u, %u)",
                  entryPoint, function->name.c_str(), config->grid[0],
                  config->grid[1], config->grid[2], config->block[0],
                  config->block[1], config->block[2]);
  if (numBuffers > QPALRT_MAX_KERNEL_ARGS)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: '%s' launched with %zu buffers, at most %d supported",
                entryPoint, function->name.c_str(), numBuffers,
                QPALRT_MAX_KERNEL_ARGS);
  if (numBuffers > 0 && !buffers)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: '%s' launched with %zu buffers but 'buffers' is null",
                entryPoint, function->name.c_str(), numBuffers);
  for (size_t i = 0; i < numBuffers; ++i) {
    if (!buffers[i])
      return fail(QPALRT_ERROR_INVALID_ARGUMENT, "%s: buffer %zu is null",
                  entryPoint, i);
    if (buffers[i]->context != function->module->context)
      return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                  "%s: buffer %zu belongs to another context than '%s'",
                  entryPoint, i, function->name.c_str());
    args[i] = buffers[i]->address;
  }
  return QPALRT_SUCCESS;
}

/// Decides the format of a module for a context of `kind`.
qpalrtModuleFormat detectFormat(qpalrtDeviceKind kind, const void *data,
                                size_t size) {
  static const unsigned char elfMagic[4] = {0x7f, 'E', 'L', 'F'};
  static const unsigned char fatbinMagic[4] = {0x50, 0xed, 0x55, 0xba};
  bool binary = size >= 4 && (std::memcmp(data, elfMagic, 4) == 0 ||
                              std::memcmp(data, fatbinMagic, 4) == 0);
  if (kind == QPALRT_DEVICE_CPU)
    return QPALRT_MODULE_FORMAT_SHARED_OBJECT;
  return binary ? QPALRT_MODULE_FORMAT_CUBIN : QPALRT_MODULE_FORMAT_PTX;
}

/// Loads a module after the format is known; `path` is null for memory.
qpalrtStatus loadModule(qpalrtContext *context, const void *data, size_t size,
                        qpalrtModuleFormat format, const char *path,
                        qpalrtModule **out) {
  if (format == QPALRT_MODULE_FORMAT_AUTO)
    format = detectFormat(context->kind, data, size);
  bool forCpu = format == QPALRT_MODULE_FORMAT_SHARED_OBJECT;
  if (forCpu != (context->kind == QPALRT_DEVICE_CPU))
    return fail(
        QPALRT_ERROR_UNSUPPORTED, "cannot load a %s module on a %s context",
        forCpu ? "shared object" : "PTX or cubin", kindName(context->kind));
  auto module = std::make_unique<qpalrtModule>();
  module->context = context;
  module->name = path ? path : "<memory>";
  if (qpalrtStatus s = context->backend->loadModule(data, size, format, path,
                                                    &module->handle))
    return s;
  *out = module.get();
  std::lock_guard<std::mutex> guard(context->lock);
  context->modules.insert(module.release());
  return QPALRT_SUCCESS;
}

} // namespace

std::string qpalrt::formatMessage(const char *format, va_list args) {
  va_list argsCopy;
  va_copy(argsCopy, args);
  int length = std::vsnprintf(nullptr, 0, format, argsCopy);
  va_end(argsCopy);
  std::string message(length > 0 ? length : 0, '\0');
  std::vsnprintf(message.data(), message.size() + 1, format, args);
  return message;
}

qpalrtStatus qpalrt::fail(qpalrtStatus status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  lastError = formatMessage(format, args);
  va_end(args);
  return status;
}

const char *qpalrtStatusString(qpalrtStatus status) {
  switch (status) {
  case QPALRT_SUCCESS:
    return "QPALRT_SUCCESS";
  case QPALRT_ERROR_INVALID_ARGUMENT:
    return "QPALRT_ERROR_INVALID_ARGUMENT";
  case QPALRT_ERROR_NOT_FOUND:
    return "QPALRT_ERROR_NOT_FOUND";
  case QPALRT_ERROR_NO_DEVICE:
    return "QPALRT_ERROR_NO_DEVICE";
  case QPALRT_ERROR_DRIVER:
    return "QPALRT_ERROR_DRIVER";
  case QPALRT_ERROR_IO:
    return "QPALRT_ERROR_IO";
  case QPALRT_ERROR_FORMAT:
    return "QPALRT_ERROR_FORMAT";
  case QPALRT_ERROR_OUT_OF_MEMORY:
    return "QPALRT_ERROR_OUT_OF_MEMORY";
  case QPALRT_ERROR_UNSUPPORTED:
    return "QPALRT_ERROR_UNSUPPORTED";
  }
  return "QPALRT_UNKNOWN_STATUS";
}

const char *qpalrtGetLastError(void) { return lastError.c_str(); }

qpalrtStatus qpalrtGetDeviceCount(qpalrtDeviceKind kind, int *count) {
  if (qpalrtStatus s = checkNotNull(count, "count", "qpalrtGetDeviceCount"))
    return s;
  switch (kind) {
  case QPALRT_DEVICE_CPU:
    return getCpuDeviceCount(count);
  case QPALRT_DEVICE_CUDA:
    return getCudaDeviceCount(count);
  }
  return fail(QPALRT_ERROR_INVALID_ARGUMENT,
              "qpalrtGetDeviceCount: unknown device kind %d", int(kind));
}

qpalrtStatus qpalrtCreateContext(qpalrtDeviceKind kind, int ordinal,
                                 qpalrtContext **out) {
  if (qpalrtStatus s = checkNotNull(out, "out", "qpalrtCreateContext"))
    return s;
  if (kind != QPALRT_DEVICE_CPU && kind != QPALRT_DEVICE_CUDA)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "qpalrtCreateContext: unknown device kind %d", int(kind));
  std::unique_ptr<Backend> backend;
  if (qpalrtStatus s = kind == QPALRT_DEVICE_CPU
                           ? createCpuBackend(ordinal, backend)
                           : createCudaBackend(ordinal, backend))
    return s;
  auto *context = new qpalrtContext();
  context->kind = kind;
  context->ordinal = ordinal;
  context->backend = std::move(backend);
  *out = context;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtDestroyContext(qpalrtContext *context) {
  if (!context)
    return QPALRT_SUCCESS;
  // Free everything even if a step fails; report the first failure.
  qpalrtStatus first = context->backend->synchronize();
  std::vector<qpalrtBuffer *> buffers;
  std::vector<qpalrtModule *> modules;
  {
    std::lock_guard<std::mutex> guard(context->lock);
    buffers.assign(context->buffers.begin(), context->buffers.end());
    modules.assign(context->modules.begin(), context->modules.end());
  }
  for (qpalrtBuffer *buffer : buffers) {
    qpalrtStatus s = qpalrtFree(buffer);
    first = first ? first : s;
  }
  for (qpalrtModule *module : modules) {
    qpalrtStatus s = qpalrtUnloadModule(module);
    first = first ? first : s;
  }
  delete context;
  return first;
}

qpalrtStatus qpalrtGetDeviceInfo(const qpalrtContext *context,
                                 qpalrtDeviceInfo *info) {
  if (qpalrtStatus s = checkNotNull(context, "context", "qpalrtGetDeviceInfo"))
    return s;
  if (qpalrtStatus s = checkNotNull(info, "info", "qpalrtGetDeviceInfo"))
    return s;
  qpalrtDeviceInfo result;
  std::memset(&result, 0, sizeof(result));
  result.kind = context->kind;
  result.ordinal = context->ordinal;
  if (qpalrtStatus s = context->backend->getDeviceInfo(result))
    return s;
  *info = result;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtLoadModule(qpalrtContext *context, const char *path,
                              qpalrtModule **out) {
  if (qpalrtStatus s = checkNotNull(context, "context", "qpalrtLoadModule"))
    return s;
  if (qpalrtStatus s = checkNotNull(path, "path", "qpalrtLoadModule"))
    return s;
  if (qpalrtStatus s = checkNotNull(out, "out", "qpalrtLoadModule"))
    return s;
  std::FILE *file = std::fopen(path, "rb");
  if (!file)
    return fail(QPALRT_ERROR_IO, "cannot open module '%s': %s", path,
                std::strerror(errno));
  std::vector<char> bytes;
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  bool readFailed = std::ferror(file);
  std::fclose(file);
  if (readFailed)
    return fail(QPALRT_ERROR_IO, "cannot read module '%s'", path);
  return loadModule(context, bytes.data(), bytes.size(),
                    QPALRT_MODULE_FORMAT_AUTO, path, out);
}

qpalrtStatus qpalrtLoadModuleData(qpalrtContext *context, const void *data,
                                  size_t size, qpalrtModuleFormat format,
                                  qpalrtModule **out) {
  if (qpalrtStatus s = checkNotNull(context, "context", "qpalrtLoadModuleData"))
    return s;
  if (qpalrtStatus s = checkNotNull(data, "data", "qpalrtLoadModuleData"))
    return s;
  if (qpalrtStatus s = checkNotNull(out, "out", "qpalrtLoadModuleData"))
    return s;
  if (size == 0)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "qpalrtLoadModuleData: the module is empty");
  if (format < QPALRT_MODULE_FORMAT_AUTO ||
      format > QPALRT_MODULE_FORMAT_SHARED_OBJECT)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "qpalrtLoadModuleData: unknown module format %d", int(format));
  return loadModule(context, data, size, format, nullptr, out);
}

qpalrtStatus qpalrtUnloadModule(qpalrtModule *module) {
  if (!module)
    return QPALRT_SUCCESS;
  qpalrtContext *context = module->context;
  {
    std::lock_guard<std::mutex> guard(context->lock);
    context->modules.erase(module);
  }
  qpalrtStatus s = context->backend->unloadModule(module->handle);
  delete module;
  return s;
}

qpalrtStatus qpalrtGetFunction(qpalrtModule *module, const char *name,
                               qpalrtFunction **out) {
  if (qpalrtStatus s = checkNotNull(module, "module", "qpalrtGetFunction"))
    return s;
  if (qpalrtStatus s = checkNotNull(name, "name", "qpalrtGetFunction"))
    return s;
  if (qpalrtStatus s = checkNotNull(out, "out", "qpalrtGetFunction"))
    return s;
  auto it = module->functions.find(name);
  if (it != module->functions.end()) {
    *out = it->second.get();
    return QPALRT_SUCCESS;
  }
  auto function = std::make_unique<qpalrtFunction>();
  function->module = module;
  function->name = name;
  if (qpalrtStatus s = module->context->backend->getFunction(
          module->handle, name, module->name, &function->handle))
    return s;
  *out = function.get();
  module->functions.emplace(name, std::move(function));
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtAlloc(qpalrtContext *context, size_t bytes,
                         qpalrtBuffer **out) {
  if (qpalrtStatus s = checkNotNull(context, "context", "qpalrtAlloc"))
    return s;
  if (qpalrtStatus s = checkNotNull(out, "out", "qpalrtAlloc"))
    return s;
  if (bytes == 0)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "qpalrtAlloc: a buffer needs at least 1 byte");
  Address address;
  if (qpalrtStatus s = context->backend->allocate(bytes, &address))
    return s;
  auto *buffer = new qpalrtBuffer{context, address, bytes};
  std::lock_guard<std::mutex> guard(context->lock);
  context->buffers.insert(buffer);
  *out = buffer;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtFree(qpalrtBuffer *buffer) {
  if (!buffer)
    return QPALRT_SUCCESS;
  qpalrtContext *context = buffer->context;
  {
    std::lock_guard<std::mutex> guard(context->lock);
    context->buffers.erase(buffer);
  }
  qpalrtStatus s = context->backend->deallocate(buffer->address);
  delete buffer;
  return s;
}

qpalrtStatus qpalrtGetBufferSize(const qpalrtBuffer *buffer, size_t *bytes) {
  if (qpalrtStatus s = checkNotNull(buffer, "buffer", "qpalrtGetBufferSize"))
    return s;
  if (qpalrtStatus s = checkNotNull(bytes, "bytes", "qpalrtGetBufferSize"))
    return s;
  *bytes = buffer->size;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtUpload(qpalrtBuffer *buffer, const void *src, size_t bytes,
                          size_t offset) {
  if (qpalrtStatus s = checkNotNull(buffer, "buffer", "qpalrtUpload"))
    return s;
  if (qpalrtStatus s = checkNotNull(src, "src", "qpalrtUpload"))
    return s;
  if (qpalrtStatus s = checkRange(buffer, bytes, offset, "qpalrtUpload"))
    return s;
  if (bytes == 0)
    return QPALRT_SUCCESS;
  return buffer->context->backend->upload(buffer->address + offset, src, bytes);
}

qpalrtStatus qpalrtDownload(const qpalrtBuffer *buffer, void *dst, size_t bytes,
                            size_t offset) {
  if (qpalrtStatus s = checkNotNull(buffer, "buffer", "qpalrtDownload"))
    return s;
  if (qpalrtStatus s = checkNotNull(dst, "dst", "qpalrtDownload"))
    return s;
  if (qpalrtStatus s = checkRange(buffer, bytes, offset, "qpalrtDownload"))
    return s;
  if (bytes == 0)
    return QPALRT_SUCCESS;
  return buffer->context->backend->download(dst, buffer->address + offset,
                                            bytes);
}

qpalrtStatus qpalrtLaunch(qpalrtFunction *function,
                          const qpalrtLaunchConfig *config,
                          qpalrtBuffer *const *buffers, size_t numBuffers) {
  Address args[QPALRT_MAX_KERNEL_ARGS];
  if (qpalrtStatus s = checkLaunch(function, config, buffers, numBuffers, args,
                                   "qpalrtLaunch"))
    return s;
  return function->module->context->backend->launch(*function, *config, args,
                                                    numBuffers);
}

qpalrtStatus qpalrtLaunchRange(qpalrtFunction *function,
                               qpalrtBuffer *const *buffers, size_t numBuffers,
                               int64_t count, int threads) {
  const char *entryPoint = "qpalrtLaunchRange";
  if (qpalrtStatus s = checkNotNull(function, "function", entryPoint))
    return s;
  if (numBuffers + 1 > QPALRT_MAX_KERNEL_ARGS)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: '%s' launched with %zu buffers and a range, at most %d "
                "parameters supported",
                entryPoint, function->name.c_str(), numBuffers,
                QPALRT_MAX_KERNEL_ARGS);
  static const qpalrtLaunchConfig single = {{1, 1, 1}, {1, 1, 1}, 0};
  Address args[QPALRT_MAX_KERNEL_ARGS];
  if (qpalrtStatus s =
          checkLaunch(function, &single, buffers, numBuffers, args, entryPoint))
    return s;
  if (count < 0)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: '%s' launched over %lld iterations; the count must not "
                "be negative",
                entryPoint, function->name.c_str(),
                static_cast<long long>(count));
  if (threads < 0)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: '%s' launched on %d threads; pass 0 for one per core",
                entryPoint, function->name.c_str(), threads);
  if (count == 0 && function->module->context->kind == QPALRT_DEVICE_CPU)
    return QPALRT_SUCCESS;
  return function->module->context->backend->launchRange(
      *function, args, numBuffers, count, threads);
}

qpalrtStatus qpalrtSynchronize(qpalrtContext *context) {
  if (qpalrtStatus s = checkNotNull(context, "context", "qpalrtSynchronize"))
    return s;
  return context->backend->synchronize();
}

qpalrtStatus qpalrtTimeLaunch(qpalrtFunction *function,
                              const qpalrtLaunchConfig *config,
                              qpalrtBuffer *const *buffers, size_t numBuffers,
                              int iterations, double *microsecondsPerLaunch) {
  Address args[QPALRT_MAX_KERNEL_ARGS];
  if (qpalrtStatus s = checkLaunch(function, config, buffers, numBuffers, args,
                                   "qpalrtTimeLaunch"))
    return s;
  if (qpalrtStatus s = checkNotNull(
          microsecondsPerLaunch, "microsecondsPerLaunch", "qpalrtTimeLaunch"))
    return s;
  if (iterations < 1)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "qpalrtTimeLaunch: iterations must be at least 1, got %d",
                iterations);
  return function->module->context->backend->timeLaunch(
      *function, *config, args, numBuffers, iterations, microsecondsPerLaunch);
}

qpalrtStatus qpalrtTimeLaunchSets(qpalrtFunction *function,
                                  const qpalrtLaunchConfig *config,
                                  qpalrtBuffer *const *buffers,
                                  size_t numBuffers, size_t numSets,
                                  int iterations, double *microsecondsPerLaunch,
                                  int *usedGraph) {
  const char *entryPoint = "qpalrtTimeLaunchSets";
  if (numSets < 1)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: numSets must be at least 1, got %zu", entryPoint, numSets);
  if (iterations < 1)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: iterations must be at least 1, got %d", entryPoint,
                iterations);
  if (qpalrtStatus s = checkNotNull(microsecondsPerLaunch,
                                    "microsecondsPerLaunch", entryPoint))
    return s;
  if (numBuffers > 0 && numSets > SIZE_MAX / numBuffers)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: %zu sets of %zu buffers overflow", entryPoint, numSets,
                numBuffers);
  std::vector<Address> args(numSets * numBuffers);
  for (size_t set = 0; set < numSets; ++set)
    if (qpalrtStatus s = checkLaunch(
            function, config, buffers ? buffers + set * numBuffers : nullptr,
            numBuffers, args.data() + set * numBuffers, entryPoint))
      return s;
  bool graph = false;
  if (qpalrtStatus s = function->module->context->backend->timeLaunchSets(
          *function, *config, args.data(), numBuffers, numSets, iterations,
          microsecondsPerLaunch, &graph))
    return s;
  if (usedGraph)
    *usedGraph = graph ? 1 : 0;
  return QPALRT_SUCCESS;
}
