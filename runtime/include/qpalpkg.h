/*===- qpalpkg.h - The compiled-model package format --------------*- C -*-===*\
|*                                                                            *|
|* Part of the qpal project, under the Apache License v2.0 with LLVM          *|
|* Exceptions. See LICENSE for license information.                           *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* The on-disk layout of a `.qpal` package, shared by the writer (`qpal       *|
|* compile`) and the reader (the runtime). C, standard headers only. The      *|
|* prose specification is docs/Package.md.                                    *|
|*                                                                            *|
|* A package is one little-endian file:                                       *|
|*                                                                            *|
|*   [0, 64)            qpalpkgHeader                                         *|
|*   [table, +64*n)     n qpalpkgSection entries (64-byte aligned)            *|
|*   sections           each at a 64-byte-aligned offset, in table order      *|
|*                                                                            *|
|* Every byte of the file is covered by a checksum: the header by its own,    *|
|* the section table by the header's, each section by its entry's. The       *|
|* checksum is 64-bit FNV-1a (qpalpkgChecksum below). The bytes between the   *|
|* header, the table and the sections (alignment padding) are zero, and the   *|
|* runtime checks that they are.                                              *|
|*                                                                            *|
|* The sections of format version 1:                                          *|
|*   "manifest"   JSON text: versions, target, model configuration, KV-cache  *|
|*                geometry, entry points, the plan (every layer's quantizer   *|
|*                and fusion group) and the weight table                      *|
|*   "tokenizer"  the vocabulary, in qpaltok's serialization                  *|
|*   "code.cpu"   a host shared object with the entry points (target cpu)    *|
|*   "code.nvptx" the same for target nvptx, whose kernels run on a CUDA GPU: *|
|*                every descriptor then holds device addresses, and the code  *|
|*                calls MLIR's mgpu* runtime functions, which the runtime     *|
|*                provides (docs/Package.md, "nvptx packages")                *|
|*   "weights"    the weight arena the entry points read (64-byte aligned,    *|
|*                mmap-able: the runtime maps it in place)                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QPALPKG_H
#define QPALPKG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The first eight bytes of every package.
#define QPALPKG_MAGIC "QPALPKG\0"
/// The format version this header describes.
#define QPALPKG_FORMAT_VERSION 1u
/// The version of qpal (compiler, runtime and qpal-run) this header ships
/// with; `qpal --version` and `qpal-run --version` print it, packages record
/// the compiler's.
#define QPAL_VERSION_STRING "0.1.0"
/// The alignment of the section table and of every section.
#define QPALPKG_ALIGNMENT 64u
/// The most sections a package may list.
#define QPALPKG_MAX_SECTIONS 64u
/// The longest section name, without its terminating NUL.
#define QPALPKG_MAX_NAME 31u

/// The file header, at offset 0.
typedef struct qpalpkgHeader {
  /// QPALPKG_MAGIC.
  char magic[8];
  /// QPALPKG_FORMAT_VERSION when written.
  uint32_t formatVersion;
  /// sizeof(qpalpkgHeader), 64.
  uint32_t headerBytes;
  /// The size of the whole file.
  uint64_t fileBytes;
  /// Where the section table starts (a multiple of QPALPKG_ALIGNMENT).
  uint64_t sectionTableOffset;
  /// How many qpalpkgSection entries the table holds.
  uint32_t sectionCount;
  /// Zero.
  uint32_t reserved0;
  /// qpalpkgChecksum of the section table's bytes.
  uint64_t sectionTableChecksum;
  /// Zero.
  uint64_t reserved1;
  /// qpalpkgChecksum of the header's first 56 bytes.
  uint64_t headerChecksum;
} qpalpkgHeader;

/// One entry of the section table.
typedef struct qpalpkgSection {
  /// The name, NUL-padded ("weights"); at most QPALPKG_MAX_NAME bytes.
  char name[32];
  /// Where the section starts (a multiple of QPALPKG_ALIGNMENT).
  uint64_t offset;
  /// The section's size in bytes.
  uint64_t bytes;
  /// qpalpkgChecksum of the section's bytes.
  uint64_t checksum;
  /// Zero.
  uint64_t reserved;
} qpalpkgSection;

#ifdef __cplusplus
static_assert(sizeof(qpalpkgHeader) == 64, "the header is 64 bytes");
static_assert(sizeof(qpalpkgSection) == 64, "a section entry is 64 bytes");
#else
_Static_assert(sizeof(qpalpkgHeader) == 64, "the header is 64 bytes");
_Static_assert(sizeof(qpalpkgSection) == 64, "a section entry is 64 bytes");
#endif

/// The FNV-1a 64-bit offset basis: the checksum of no bytes.
#define QPALPKG_CHECKSUM_SEED 0xcbf29ce484222325ull

/// Continues a 64-bit FNV-1a checksum over `size` bytes at `data`; start
/// with QPALPKG_CHECKSUM_SEED.
static inline uint64_t qpalpkgChecksumUpdate(uint64_t hash, const void *data,
                                             size_t size) {
  const unsigned char *bytes = (const unsigned char *)data;
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

/// The 64-bit FNV-1a checksum of `size` bytes at `data`.
static inline uint64_t qpalpkgChecksum(const void *data, size_t size) {
  return qpalpkgChecksumUpdate(QPALPKG_CHECKSUM_SEED, data, size);
}

/// The entry points of a CPU package ("code.cpu") are C functions
///
///   void <symbol>(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
///                 int64_t position, qpalpkgMemRef3D *cache,
///                 qpalpkgMemRef2D *logits);
///
/// (MLIR's `llvm.emit_c_interface` convention), one per batch size listed in
/// the manifest's "entry_points". One call runs `batch` tokens (int32 ids in
/// `tokens`, sizes[0] == batch) that sit at positions [position, position +
/// batch) of the sequence: it writes their keys and values into `cache`
/// (f32, [planes][capacity][width], planes = 2 x layers: keys of layer l in
/// plane 2l, values in 2l + 1) and attends causally over positions
/// [0, position + i] for token i; it writes each token's logits into row i
/// of `logits` (f32, [batch][vocab]). `arena` is the "weights" section as
/// bytes (i8, sizes[0] = its size). position + batch must not exceed the
/// cache's capacity: the caller checks.
typedef struct qpalpkgMemRef1D {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} qpalpkgMemRef1D;

/// A rank-2 memref descriptor (see qpalpkgMemRef1D).
typedef struct qpalpkgMemRef2D {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} qpalpkgMemRef2D;

/// A rank-3 memref descriptor (see qpalpkgMemRef1D).
typedef struct qpalpkgMemRef3D {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} qpalpkgMemRef3D;

/// A CPU package's code may also export `void qpal_set_threads(int n)`, the
/// threads of its thread pool (n <= 0: one per online core); the runtime
/// calls it from qpalrtSetThreads.

/// The type of an entry point.
typedef void (*qpalpkgStepFn)(qpalpkgMemRef1D *arena, qpalpkgMemRef1D *tokens,
                              int64_t position, qpalpkgMemRef3D *cache,
                              qpalpkgMemRef2D *logits);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QPALPKG_H
