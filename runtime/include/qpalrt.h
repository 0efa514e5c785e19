/*===- qpalrt.h - The qpal runtime C API --------------------------*- C -*-===*\
|*                                                                            *|
|* Part of the qpal project, under the Apache License v2.0 with LLVM          *|
|* Exceptions. See LICENSE for license information.                           *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* The qpal runtime loads kernels that the qpal compiler produced and         *|
|* launches them, on a CUDA GPU (through the driver API, loaded at run time)  *|
|* or on the host CPU (through dlopen). It needs only libc, libdl and         *|
|* pthreads: it builds and runs without MLIR, LLVM, the CUDA toolkit or a     *|
|* GPU, so it can ship next to a model without the compiler.                  *|
|*                                                                            *|
|* Conventions:                                                               *|
|*  - Entry points return a qpalrtStatus (all but the two string getters).   *|
|*    On failure they also record a message for the calling thread, read     *|
|*    with qpalrtGetLastError().                                              *|
|*  - Output parameters are written only on success.                          *|
|*  - A context owns what is created from it: destroying the context frees    *|
|*    its modules (and their functions) and its buffers. A package owns its   *|
|*    sessions the same way (see "Compiled models" below).                    *|
|*                                                                            *|
|* The CUDA driver is opened on first use: libcuda.so.1, or the library       *|
|* named by the environment variable QPALRT_CUDA_DRIVER.                      *|
|*                                                                            *|
|* Thread safety: entry points may run concurrently on different contexts.    *|
|* On one context, qpalrtAlloc, qpalrtFree, qpalrtLoadModule(Data), uploads   *|
|* and downloads of distinct buffers, and qpalrtLaunchRange (the CPU worker   *|
|* pool serves one ranged launch at a time) may come from several threads    *|
|* at once; any other use of a context and of what was created from it by    *|
|* two threads at once needs external locking. On CUDA, every entry point     *|
|* makes the context's device current on the calling thread, so a context     *|
|* may move between threads.                                                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QPALRT_H
#define QPALRT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define QPALRT_EXPORT __attribute__((visibility("default")))
#else
#define QPALRT_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// The enums below are int-sized in C. In C++ they get int as their fixed
/// underlying type, so that any value a C caller passes is a value the
/// runtime can check and reject (without one, loading a value outside the
/// enumerators is undefined behaviour).
#ifdef __cplusplus
#define QPALRT_ENUM_BASE : int
#else
#define QPALRT_ENUM_BASE
#endif

/// The result of every entry point.
typedef enum qpalrtStatus QPALRT_ENUM_BASE {
  /// The call did what it was asked.
  QPALRT_SUCCESS = 0,
  /// An argument was null, out of range or inconsistent with another one.
  QPALRT_ERROR_INVALID_ARGUMENT = 1,
  /// A named thing (a function in a module) does not exist.
  QPALRT_ERROR_NOT_FOUND = 2,
  /// No device of the requested kind: no CUDA driver, or no GPU.
  QPALRT_ERROR_NO_DEVICE = 3,
  /// The CUDA driver reported an error not covered by another status.
  QPALRT_ERROR_DRIVER = 4,
  /// A file could not be opened or read.
  QPALRT_ERROR_IO = 5,
  /// A module's contents were rejected (bad PTX, not a shared object, ...).
  QPALRT_ERROR_FORMAT = 6,
  /// Host or device memory ran out.
  QPALRT_ERROR_OUT_OF_MEMORY = 7,
  /// The device kind cannot do this (a PTX module on a CPU context, ...), or
  /// this runtime cannot (a package of another format version or target).
  QPALRT_ERROR_UNSUPPORTED = 8,
} qpalrtStatus;

/// The kinds of device a context can run on.
typedef enum qpalrtDeviceKind QPALRT_ENUM_BASE {
  /// The host CPU: kernels are functions in a shared object.
  QPALRT_DEVICE_CPU = 0,
  /// An NVIDIA GPU, reached through the CUDA driver API.
  QPALRT_DEVICE_CUDA = 1,
} qpalrtDeviceKind;

/// The formats a module can be loaded from.
typedef enum qpalrtModuleFormat QPALRT_ENUM_BASE {
  /// Decided from the bytes and the context: ELF or fatbinary images are
  /// cubins on CUDA and shared objects on the CPU; anything else is PTX.
  QPALRT_MODULE_FORMAT_AUTO = 0,
  /// PTX assembly text, compiled by the driver's JIT when loaded.
  QPALRT_MODULE_FORMAT_PTX = 1,
  /// A cubin or fatbinary image for the context's GPU.
  QPALRT_MODULE_FORMAT_CUBIN = 2,
  /// A host shared object (ELF .so).
  QPALRT_MODULE_FORMAT_SHARED_OBJECT = 3,
} qpalrtModuleFormat;

/// A device, with what kernels are created from. Opaque.
typedef struct qpalrtContext qpalrtContext;
/// Loaded code: a CUDA module or a dlopen'ed shared object. Opaque.
typedef struct qpalrtModule qpalrtModule;
/// One kernel in a module. Opaque; owned by its module.
typedef struct qpalrtFunction qpalrtFunction;
/// Device memory (host memory for the CPU). Opaque.
typedef struct qpalrtBuffer qpalrtBuffer;

/// What a context's device is. Fields that do not apply are zero.
typedef struct qpalrtDeviceInfo {
  /// The device kind.
  qpalrtDeviceKind kind;
  /// The ordinal the context was created with.
  int ordinal;
  /// The marketing name ("NVIDIA H100 80GB HBM3", the CPU model name).
  char name[256];
  /// Streaming multiprocessors on CUDA; online logical cores on the CPU.
  int multiprocessorCount;
  /// The CUDA compute capability, e.g. 9 and 0 for sm_90.
  int computeCapabilityMajor;
  /// The minor part of the compute capability.
  int computeCapabilityMinor;
  /// The CUDA driver version, e.g. 12040 for 12.4.
  int driverVersion;
  /// Device memory; physical memory on the CPU.
  uint64_t totalMemoryBytes;
  /// The most shared memory one block may opt in to (CUDA).
  uint64_t maxSharedMemoryPerBlock;
  /// The L2 cache (per core on the CPU, where the C library reports it).
  uint64_t l2CacheBytes;
  /// Space-separated instruction set extensions (CPU), e.g. "avx2 fma".
  char features[256];
} qpalrtDeviceInfo;

/// How a kernel is launched. The CPU backend ignores it beyond checking it:
/// a CPU kernel is called once and parallelizes inside.
typedef struct qpalrtLaunchConfig {
  /// Blocks in x, y and z; each at least 1.
  uint32_t grid[3];
  /// Threads per block in x, y and z; each at least 1.
  uint32_t block[3];
  /// Dynamic shared memory per block. Above 48 KiB the runtime opts the
  /// function in with cuFuncSetAttribute.
  uint32_t dynamicSharedBytes;
} qpalrtLaunchConfig;

/// The most buffers one launch may pass.
#define QPALRT_MAX_KERNEL_ARGS 8

/// Returns the enumerator's name ("QPALRT_ERROR_NOT_FOUND"), or
/// "QPALRT_UNKNOWN_STATUS" for a value outside the enum. Never null.
QPALRT_EXPORT const char *qpalrtStatusString(qpalrtStatus status);

/// Returns the message of the most recent failed call on this thread, e.g.
/// "cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (a PTX JIT compilation
/// failed): ptxas ...", or "" if none failed. Successful calls leave it
/// unchanged. Valid until the next failed call on this thread.
QPALRT_EXPORT const char *qpalrtGetLastError(void);

/// Writes the number of devices of `kind` to `*count`. There is always one
/// CPU device. Without a CUDA driver or GPU, CUDA returns
/// QPALRT_ERROR_NO_DEVICE and the message says why.
QPALRT_EXPORT qpalrtStatus qpalrtGetDeviceCount(qpalrtDeviceKind kind,
                                                int *count);

/// Creates a context on device `ordinal` of `kind`. CUDA contexts use the
/// device's primary context, shared with any other CUDA user in the process.
QPALRT_EXPORT qpalrtStatus qpalrtCreateContext(qpalrtDeviceKind kind,
                                               int ordinal,
                                               qpalrtContext **out);

/// Frees the context's modules and buffers, then the context. Outstanding
/// kernels are waited for. A null context is accepted and ignored.
QPALRT_EXPORT qpalrtStatus qpalrtDestroyContext(qpalrtContext *context);

/// Describes the context's device.
QPALRT_EXPORT qpalrtStatus qpalrtGetDeviceInfo(const qpalrtContext *context,
                                               qpalrtDeviceInfo *info);

/// Loads the module in file `path`; the format is found as for
/// QPALRT_MODULE_FORMAT_AUTO. A file that cannot be read is
/// QPALRT_ERROR_IO and the message names the path.
QPALRT_EXPORT qpalrtStatus qpalrtLoadModule(qpalrtContext *context,
                                            const char *path,
                                            qpalrtModule **out);

/// Loads a module from `size` bytes at `data` (copied; the caller keeps
/// them). PTX need not be NUL-terminated. On CUDA a JIT failure is
/// QPALRT_ERROR_FORMAT with the JIT's error log in the message.
QPALRT_EXPORT qpalrtStatus qpalrtLoadModuleData(qpalrtContext *context,
                                                const void *data, size_t size,
                                                qpalrtModuleFormat format,
                                                qpalrtModule **out);

/// Unloads a module; its functions become invalid. Null is ignored.
QPALRT_EXPORT qpalrtStatus qpalrtUnloadModule(qpalrtModule *module);

/// Finds the kernel `name` (a CUDA entry, or an exported C symbol). Asking
/// twice gives the same handle. A missing name is QPALRT_ERROR_NOT_FOUND.
QPALRT_EXPORT qpalrtStatus qpalrtGetFunction(qpalrtModule *module,
                                             const char *name,
                                             qpalrtFunction **out);

/// Allocates `bytes` (at least 1) of device memory, 256-byte aligned on
/// CUDA and 64-byte aligned on the CPU. The contents are undefined.
QPALRT_EXPORT qpalrtStatus qpalrtAlloc(qpalrtContext *context, size_t bytes,
                                       qpalrtBuffer **out);

/// Frees a buffer. Null is ignored.
QPALRT_EXPORT qpalrtStatus qpalrtFree(qpalrtBuffer *buffer);

/// Writes the buffer's size in bytes to `*bytes`.
QPALRT_EXPORT qpalrtStatus qpalrtGetBufferSize(const qpalrtBuffer *buffer,
                                               size_t *bytes);

/// Copies `bytes` from host memory `src` into the buffer at `offset`.
/// Returns after the copy; `offset + bytes` must not exceed the buffer.
QPALRT_EXPORT qpalrtStatus qpalrtUpload(qpalrtBuffer *buffer, const void *src,
                                        size_t bytes, size_t offset);

/// Copies `bytes` from the buffer at `offset` to host memory `dst`, after
/// the kernels launched before it have finished.
QPALRT_EXPORT qpalrtStatus qpalrtDownload(const qpalrtBuffer *buffer, void *dst,
                                          size_t bytes, size_t offset);

/// Launches `function` with the "bare pointer" ABI: the kernel takes exactly
/// `numBuffers` (0 to QPALRT_MAX_KERNEL_ARGS) pointer parameters, the
/// buffers' addresses in order. On CUDA the launch is asynchronous: a fault
/// in the kernel surfaces at the next qpalrtSynchronize or qpalrtDownload,
/// and a parameter count that differs from the kernel's is rejected where
/// the driver can tell (cuFuncGetParamInfo). On the CPU the function is a
/// `void fn(void *, ...)` called once, synchronously; its arity cannot be
/// checked, so a wrong count is undefined behavior.
QPALRT_EXPORT qpalrtStatus qpalrtLaunch(qpalrtFunction *function,
                                        const qpalrtLaunchConfig *config,
                                        qpalrtBuffer *const *buffers,
                                        size_t numBuffers);

/// Launches a CPU kernel over the iteration space [0, `count`) on `threads`
/// of the runtime's worker threads (0: one per online core, never more than
/// `count`): each calls `void fn(b0, ..., b(n-1), int64_t range[2])` with
/// the buffers' addresses and a range [first, last) of its own; the ranges
/// are contiguous and partition [0, count). Returns when every call has.
/// qpal's CPU kernels take their 32-row supertiles (or SIMT rows) this way.
/// CUDA kernels are launched with qpalrtLaunch: QPALRT_ERROR_UNSUPPORTED.
QPALRT_EXPORT qpalrtStatus qpalrtLaunchRange(qpalrtFunction *function,
                                             qpalrtBuffer *const *buffers,
                                             size_t numBuffers, int64_t count,
                                             int threads);

/// Waits for every kernel launched on the context to finish.
QPALRT_EXPORT qpalrtStatus qpalrtSynchronize(qpalrtContext *context);

/// Launches like qpalrtLaunch once to warm up and then `iterations` times
/// back to back, and writes the mean time of one launch in microseconds to
/// `*microsecondsPerLaunch`. CUDA times with events on the launch stream;
/// the CPU with a steady clock. For benchmarks.
QPALRT_EXPORT qpalrtStatus qpalrtTimeLaunch(qpalrtFunction *function,
                                            const qpalrtLaunchConfig *config,
                                            qpalrtBuffer *const *buffers,
                                            size_t numBuffers, int iterations,
                                            double *microsecondsPerLaunch);

/// Times `function` over `numSets` argument sets, so that a benchmark can
/// rotate its inputs through more memory than the caches hold: `buffers`
/// holds numSets x numBuffers buffers, set by set. Every set is launched
/// once to warm up; then one round (every set once, in order) is repeated
/// `iterations` times, and the mean time of one launch is written to
/// `*microsecondsPerLaunch`. On CUDA the round is captured once as a graph
/// and replayed, so that host launch overhead stays out of the time of short
/// kernels, where the driver offers graphs (`*usedGraph` is then 1; it may
/// be null); otherwise, and on the CPU, the launches run back to back.
QPALRT_EXPORT qpalrtStatus qpalrtTimeLaunchSets(
    qpalrtFunction *function, const qpalrtLaunchConfig *config,
    qpalrtBuffer *const *buffers, size_t numBuffers, size_t numSets,
    int iterations, double *microsecondsPerLaunch, int *usedGraph);

/*===----------------------------------------------------------------------===*\
|* Compiled models                                                            *|
|*                                                                            *|
|* A package (`.qpal`, written by `qpal compile`; layout in qpalpkg.h, prose  *|
|* in docs/Package.md) holds a model's manifest, tokenizer, compiled code and *|
|* weights. Opening one maps the file read-only and checks all of it before   *|
|* anything runs. A session holds the KV cache of one sequence and runs       *|
|* tokens through the package's entry points. A package owns its sessions:    *|
|* closing it destroys them. A package and its sessions must not be used by   *|
|* two threads at once.                                                       *|
\*===----------------------------------------------------------------------===*/

/// An opened, checked package with its code loaded. Opaque.
typedef struct qpalrtPackage qpalrtPackage;
/// One sequence being run through a package: a KV cache and a position.
/// Opaque; owned by its package.
typedef struct qpalrtSession qpalrtSession;

/// What a package's manifest says about its model. Fields the manifest
/// leaves out are zero (or empty strings).
typedef struct qpalrtModelInfo {
  /// Tokens in the vocabulary: the logits of one token.
  int64_t vocabSize;
  /// The residual stream's width.
  int64_t hiddenSize;
  /// Transformer blocks.
  int64_t layers;
  /// Query heads.
  int64_t heads;
  /// Key and value heads.
  int64_t kvHeads;
  /// The width of one head.
  int64_t headDim;
  /// The longest sequence the model was trained for: the most positions a
  /// session may hold.
  int64_t contextLength;
  /// The model's name ("SmolLM2-135M-Instruct"), truncated to fit.
  char name[128];
  /// The target the code was compiled for ("cpu" or "nvptx").
  char target[16];
  /// The mean storage of a quantized weight, in bits.
  double bitsPerWeight;
  /// The size of the package file.
  uint64_t packageBytes;
  /// The size of the weight arena (the "weights" section).
  uint64_t weightBytes;
} qpalrtModelInfo;

/// Opens the package at `path`: maps it, checks the header, the section
/// table, every checksum and the manifest, parses the tokenizer, loads the
/// code and finds every entry point. An "nvptx" package runs on CUDA device
/// 0: its weights are copied to the device, and its code's kernels loaded.
/// A file that cannot be opened is QPALRT_ERROR_IO; a damaged or malformed
/// one QPALRT_ERROR_FORMAT; another format version, or a GPU older than the
/// package's chip, QPALRT_ERROR_UNSUPPORTED; an nvptx package without a CUDA
/// device QPALRT_ERROR_NO_DEVICE; a missing entry point
/// QPALRT_ERROR_NOT_FOUND. The message names the path and what is wrong.
QPALRT_EXPORT qpalrtStatus qpalrtOpenPackage(const char *path,
                                             qpalrtPackage **out);

/// Opens the package at `path` as qpalrtOpenPackage does, checks and all,
/// but does not load its code (nor, for an nvptx package, need a CUDA
/// device): for reading its manifest, model and sections where it cannot
/// run. Creating a session on it is QPALRT_ERROR_INVALID_ARGUMENT. Close it
/// with qpalrtClosePackage.
QPALRT_EXPORT qpalrtStatus qpalrtInspectPackage(const char *path,
                                                qpalrtPackage **out);

/// Destroys the package's sessions, unloads its code and unmaps the file.
/// Null is ignored.
QPALRT_EXPORT qpalrtStatus qpalrtClosePackage(qpalrtPackage *package);

/// Describes the package's model.
QPALRT_EXPORT qpalrtStatus qpalrtGetModelInfo(const qpalrtPackage *package,
                                              qpalrtModelInfo *info);

/// Writes where the section `name` ("manifest", "tokenizer", "code.cpu",
/// "weights") lies in the mapped package and its size. The bytes stay valid
/// until the package is closed. A missing section is QPALRT_ERROR_NOT_FOUND.
QPALRT_EXPORT qpalrtStatus qpalrtGetPackageSection(const qpalrtPackage *package,
                                                   const char *name,
                                                   const void **data,
                                                   size_t *bytes);

/// Writes the number of sections in the package.
QPALRT_EXPORT qpalrtStatus
qpalrtGetPackageSectionCount(const qpalrtPackage *package, size_t *count);

/// Writes the name, bytes and size of section `index` (0 to count - 1, in
/// the order of the section table). The name and bytes stay valid until
/// the package is closed.
QPALRT_EXPORT qpalrtStatus
qpalrtGetPackageSectionAt(const qpalrtPackage *package, size_t index,
                          const char **name, const void **data, size_t *bytes);

/// Creates a session whose KV cache holds `maxTokens` positions (from 1 to
/// the model's context length), at position 0.
QPALRT_EXPORT qpalrtStatus qpalrtCreateSession(qpalrtPackage *package,
                                               int64_t maxTokens,
                                               qpalrtSession **out);

/// Frees a session. Null is ignored.
QPALRT_EXPORT qpalrtStatus qpalrtDestroySession(qpalrtSession *session);

/// Starts a new sequence: the position goes back to 0.
QPALRT_EXPORT qpalrtStatus qpalrtSessionReset(qpalrtSession *session);

/// Writes how many tokens the session has run since it was created or
/// reset: the position of the next token.
QPALRT_EXPORT qpalrtStatus
qpalrtSessionGetPosition(const qpalrtSession *session, int64_t *position);

/// Runs the `count` (at least 1) token ids at `tokens` at the session's
/// position, in chunks of the largest entry-point batch and the rest one by
/// one, and advances the position by `count`. Writes count x vocabSize
/// logits (row-major) to `logits`, or only the last token's vocabSize
/// logits when `lastOnly` is nonzero; `logits` may be null to discard them.
/// A token id outside [0, vocabSize), or a position + count beyond the
/// session's maxTokens, is QPALRT_ERROR_INVALID_ARGUMENT naming the numbers;
/// nothing runs then and the position stays. When the code of an nvptx
/// package fails on the GPU, the run fails with the driver's error and the
/// position goes back to where the run started.
QPALRT_EXPORT qpalrtStatus qpalrtSessionRun(qpalrtSession *session,
                                            const int32_t *tokens,
                                            int64_t count, float *logits,
                                            int lastOnly);

/// Records how many threads the package's code should use (0: one per
/// online core). The code of format version 1 threads itself; the number
/// is kept for code that asks for it.
QPALRT_EXPORT qpalrtStatus qpalrtSetThreads(qpalrtPackage *package,
                                            int threads);

/// Writes the thread count recorded by qpalrtSetThreads (0 if never set).
QPALRT_EXPORT qpalrtStatus qpalrtGetThreads(const qpalrtPackage *package,
                                            int *threads);

#ifdef __cplusplus
}
#endif

#endif /* QPALRT_H */
