//===- Package.cpp - Open and check a compiled-model package --------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Maps a package read-only and checks all of it before anything is used: the
// header, the section table, the layout of the sections (aligned, inside the
// file, disjoint, zero padding between them), every checksum, the manifest
// and the tokenizer. Only then is "code.<target>" loaded (through the CPU
// backend, which dlopens the bytes from a memfd) and every entry point
// looked up. An nvptx package's code is host code too, whose kernels run on
// CUDA device 0: its weights go to device memory first, and the code is
// opened with the mgpu* functions (GpuAbi.cpp) pointed at the package, as
// its constructor loads its PTX. A package is code: the checks catch
// damage, not malice, so open only packages you trust.
//
//===----------------------------------------------------------------------===//

#include "Package.h"
#include "Backend.h"
#include "GpuAbi.h"

#include "qpaltok/Tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <memory>
#include <optional>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace qpalrt;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "packages are little-endian; the reader reads them in place");

namespace {

/// The sections every package has; "code.<target>" comes with them.
const char *const kRequiredSections[] = {"manifest", "tokenizer", "weights"};

unsigned long long ull(uint64_t value) {
  return static_cast<unsigned long long>(value);
}

/// Returns the section `name`, or null.
const PackageSection *findSection(const qpalrtPackage &package,
                                  std::string_view name) {
  for (const PackageSection &section : package.sections)
    if (section.name == name)
      return &section;
  return nullptr;
}

/// Maps `path` read-only into `package`.
qpalrtStatus mapFile(const char *path, qpalrtPackage &package) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(QPALRT_ERROR_IO, "cannot open: %s", std::strerror(errno));
  struct stat status;
  if (fstat(fd, &status) != 0) {
    int error = errno;
    close(fd);
    return fail(QPALRT_ERROR_IO, "cannot stat: %s", std::strerror(error));
  }
  if (!S_ISREG(status.st_mode)) {
    close(fd);
    return fail(QPALRT_ERROR_IO, "not a regular file");
  }
  size_t size = static_cast<size_t>(status.st_size);
  if (size < sizeof(qpalpkgHeader)) {
    close(fd);
    return fail(QPALRT_ERROR_FORMAT,
                "not a qpal package: %zu bytes, fewer than the %zu-byte "
                "header",
                size, sizeof(qpalpkgHeader));
  }
  void *mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int error = errno;
  close(fd); // the mapping keeps the file
  if (mapping == MAP_FAILED)
    return fail(QPALRT_ERROR_IO, "cannot map %zu bytes: %s", size,
                std::strerror(error));
  package.mapping = mapping;
  package.fileBytes = size;
  return QPALRT_SUCCESS;
}

/// Checks the header; on success `header` holds it.
qpalrtStatus checkHeader(const qpalrtPackage &package, qpalpkgHeader &header) {
  std::memcpy(&header, package.mapping, sizeof(header));
  if (std::memcmp(header.magic, QPALPKG_MAGIC, sizeof(header.magic)) != 0)
    return fail(QPALRT_ERROR_FORMAT,
                "not a qpal package: the file does not start with "
                "\"QPALPKG\\0\"");
  if (header.formatVersion != QPALPKG_FORMAT_VERSION)
    return fail(QPALRT_ERROR_UNSUPPORTED,
                "package format version %u, this runtime reads %u",
                header.formatVersion, QPALPKG_FORMAT_VERSION);
  if (header.headerBytes != sizeof(qpalpkgHeader))
    return fail(QPALRT_ERROR_FORMAT, "header size %u, expected %zu",
                header.headerBytes, sizeof(qpalpkgHeader));
  uint64_t checksum =
      qpalpkgChecksum(&header, offsetof(qpalpkgHeader, headerChecksum));
  if (checksum != header.headerChecksum)
    return fail(QPALRT_ERROR_FORMAT,
                "header checksum mismatch: stored 0x%016llx, computed "
                "0x%016llx",
                ull(header.headerChecksum), ull(checksum));
  if (header.reserved0 != 0 || header.reserved1 != 0)
    return fail(QPALRT_ERROR_FORMAT, "the header's reserved fields are not "
                                     "zero");
  if (header.fileBytes > package.fileBytes)
    return fail(QPALRT_ERROR_FORMAT,
                "truncated: header says %llu bytes, file has %zu",
                ull(header.fileBytes), package.fileBytes);
  if (header.fileBytes < package.fileBytes)
    return fail(QPALRT_ERROR_FORMAT,
                "trailing bytes: header says %llu bytes, file has %zu",
                ull(header.fileBytes), package.fileBytes);
  return QPALRT_SUCCESS;
}

/// Checks the section table and fills `package.sections`.
qpalrtStatus readSectionTable(qpalrtPackage &package,
                              const qpalpkgHeader &header) {
  uint64_t fileBytes = header.fileBytes, offset = header.sectionTableOffset;
  if (header.sectionCount > QPALPKG_MAX_SECTIONS)
    return fail(QPALRT_ERROR_FORMAT, "%u sections, at most %u allowed",
                header.sectionCount, QPALPKG_MAX_SECTIONS);
  uint64_t tableBytes = uint64_t(header.sectionCount) * sizeof(qpalpkgSection);
  if (offset % QPALPKG_ALIGNMENT != 0)
    return fail(QPALRT_ERROR_FORMAT,
                "section table offset %llu is not a multiple of %u",
                ull(offset), QPALPKG_ALIGNMENT);
  if (offset < sizeof(qpalpkgHeader))
    return fail(QPALRT_ERROR_FORMAT,
                "section table offset %llu overlaps the header", ull(offset));
  if (offset > fileBytes || tableBytes > fileBytes - offset)
    return fail(QPALRT_ERROR_FORMAT,
                "section table [%llu, %llu) extends past the end of the file "
                "(%llu bytes)",
                ull(offset), ull(offset + tableBytes), ull(fileBytes));
  const auto *bytes = static_cast<const unsigned char *>(package.mapping);
  uint64_t checksum = qpalpkgChecksum(bytes + offset, size_t(tableBytes));
  if (checksum != header.sectionTableChecksum)
    return fail(QPALRT_ERROR_FORMAT,
                "section table checksum mismatch: stored 0x%016llx, computed "
                "0x%016llx",
                ull(header.sectionTableChecksum), ull(checksum));

  // The byte ranges in use, to find overlaps and check the padding.
  struct Range {
    uint64_t begin, end;
    std::string what;
  };
  std::vector<Range> ranges = {
      {0, sizeof(qpalpkgHeader), "the header"},
      {offset, offset + tableBytes, "the section table"}};
  for (uint32_t i = 0; i < header.sectionCount; ++i) {
    qpalpkgSection entry;
    std::memcpy(&entry, bytes + offset + i * sizeof(entry), sizeof(entry));
    const char *nameEnd = static_cast<const char *>(
        std::memchr(entry.name, '\0', sizeof(entry.name)));
    if (!nameEnd)
      return fail(QPALRT_ERROR_FORMAT,
                  "section %u: the name is not NUL-terminated", i);
    std::string name(entry.name, size_t(nameEnd - entry.name));
    if (name.empty())
      return fail(QPALRT_ERROR_FORMAT, "section %u has an empty name", i);
    const char *nameFieldEnd = entry.name + sizeof(entry.name);
    if (std::any_of(nameEnd, nameFieldEnd, [](char c) { return c != '\0'; }))
      return fail(QPALRT_ERROR_FORMAT,
                  "section '%s': the name's padding is not zero", name.c_str());
    if (entry.reserved != 0)
      return fail(QPALRT_ERROR_FORMAT,
                  "section '%s': the reserved field is not zero", name.c_str());
    if (findSection(package, name))
      return fail(QPALRT_ERROR_FORMAT, "two sections are named '%s'",
                  name.c_str());
    if (entry.offset % QPALPKG_ALIGNMENT != 0)
      return fail(QPALRT_ERROR_FORMAT,
                  "section '%s' at offset %llu is not aligned to %u bytes",
                  name.c_str(), ull(entry.offset), QPALPKG_ALIGNMENT);
    if (entry.offset > fileBytes || entry.bytes > fileBytes - entry.offset)
      return fail(QPALRT_ERROR_FORMAT,
                  "section '%s' [%llu, +%llu) extends past the end of the "
                  "file (%llu bytes)",
                  name.c_str(), ull(entry.offset), ull(entry.bytes),
                  ull(fileBytes));
    ranges.push_back(
        {entry.offset, entry.offset + entry.bytes, "section '" + name + "'"});
    package.sections.push_back(
        {name, bytes + entry.offset, entry.bytes, entry.checksum});
  }

  // Sorted by start, each range must end before the next begins; what lies
  // between them is padding and must be zero, so that every byte of the
  // file is checked.
  std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  uint64_t covered = 0;
  const Range *last = nullptr;
  for (const Range &range : ranges) {
    if (range.begin == range.end)
      continue; // an empty section occupies nothing
    if (last && range.begin < last->end)
      return fail(QPALRT_ERROR_FORMAT,
                  "%s [%llu, %llu) overlaps %s [%llu, %llu)",
                  range.what.c_str(), ull(range.begin), ull(range.end),
                  last->what.c_str(), ull(last->begin), ull(last->end));
    for (uint64_t at = covered; at < range.begin; ++at)
      if (bytes[at] != 0)
        return fail(QPALRT_ERROR_FORMAT,
                    "nonzero padding byte at offset %llu, outside every "
                    "section",
                    ull(at));
    covered = range.end;
    last = &range;
  }
  for (uint64_t at = covered; at < fileBytes; ++at)
    if (bytes[at] != 0)
      return fail(QPALRT_ERROR_FORMAT,
                  "nonzero padding byte at offset %llu, outside every "
                  "section",
                  ull(at));
  return QPALRT_SUCCESS;
}

/// Checks every section's checksum against its table entry.
qpalrtStatus checkSectionChecksums(const qpalrtPackage &package) {
  for (const PackageSection &section : package.sections) {
    uint64_t checksum = qpalpkgChecksum(section.data, size_t(section.bytes));
    if (checksum != section.checksum)
      return fail(QPALRT_ERROR_FORMAT,
                  "section '%s': checksum mismatch: stored 0x%016llx, "
                  "computed 0x%016llx",
                  section.name.c_str(), ull(section.checksum), ull(checksum));
  }
  return QPALRT_SUCCESS;
}

/// Reads the manifest and checks the sections it needs.
qpalrtStatus readContents(qpalrtPackage &package, uint32_t formatVersion) {
  const PackageSection *manifest = findSection(package, "manifest");
  if (!manifest)
    return fail(QPALRT_ERROR_FORMAT, "missing section 'manifest'");
  if (qpalrtStatus s = parseManifest(
          std::string_view(reinterpret_cast<const char *>(manifest->data),
                           size_t(manifest->bytes)),
          formatVersion, package.manifest))
    return s;
  std::string code = "code." + package.manifest.target;
  for (const char *name : kRequiredSections)
    if (!findSection(package, name))
      return fail(QPALRT_ERROR_FORMAT, "missing section '%s'", name);
  if (!findSection(package, code))
    return fail(QPALRT_ERROR_FORMAT, "missing section '%s' for target '%s'",
                code.c_str(), package.manifest.target.c_str());

  const PackageSection *tokenizer = findSection(package, "tokenizer");
  qpaltok::Vocabulary vocabulary;
  std::string error;
  if (!qpaltok::parseVocabulary(tokenizer->data, size_t(tokenizer->bytes),
                                vocabulary, error))
    return fail(QPALRT_ERROR_FORMAT, "section 'tokenizer': %s", error.c_str());
  if (int64_t(vocabulary.texts.size()) > package.manifest.vocabSize)
    return fail(QPALRT_ERROR_FORMAT,
                "section 'tokenizer': %zu tokens, more than the model's "
                "vocab_size %lld",
                vocabulary.texts.size(),
                static_cast<long long>(package.manifest.vocabSize));
  package.weights = findSection(package, "weights");
  return QPALRT_SUCCESS;
}

/// Whether `address` lies in the shared object `handle` (not in one of its
/// dependencies).
static bool definedBy(void *handle, void *address) {
  struct link_map *map = nullptr;
  Dl_info info;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map ||
      !dladdr(address, &info))
    return false;
  return info.dli_fbase == reinterpret_cast<void *>(map->l_addr);
}

/// For an nvptx package: a context on CUDA device 0 that can run the chip's
/// code, the weights in its memory, and the state of the mgpu* functions.
qpalrtStatus openDevice(qpalrtPackage &package) {
  const Manifest &manifest = package.manifest;
  int count = 0;
  if (qpalrtGetDeviceCount(QPALRT_DEVICE_CUDA, &count)) {
    std::string reason = qpalrtGetLastError();
    return fail(QPALRT_ERROR_NO_DEVICE,
                "the package targets nvptx (%s) but no CUDA device is "
                "available: %s",
                manifest.chip.c_str(), reason.c_str());
  }
  if (qpalrtStatus s =
          qpalrtCreateContext(QPALRT_DEVICE_CUDA, 0, &package.device))
    return s;
  qpalrtDeviceInfo info;
  if (qpalrtStatus s = qpalrtGetDeviceInfo(package.device, &info))
    return s;
  int capability =
      10 * info.computeCapabilityMajor + info.computeCapabilityMinor;
  if (capability < manifest.chipCapability)
    return fail(QPALRT_ERROR_UNSUPPORTED,
                "the package's code is for %s, but CUDA device 0 (%s) is "
                "sm_%d%d",
                manifest.chip.c_str(), info.name, info.computeCapabilityMajor,
                info.computeCapabilityMinor);
  // An empty arena still gets an address to pass.
  size_t bytes = std::max<size_t>(size_t(package.weights->bytes), 1);
  if (qpalrtStatus s =
          qpalrtAlloc(package.device, bytes, &package.deviceWeights)) {
    std::string message = qpalrtGetLastError();
    return fail(s, "cannot allocate the weights on CUDA device 0: %s",
                message.c_str());
  }
  if (qpalrtStatus s =
          qpalrtUpload(package.deviceWeights, package.weights->data,
                       size_t(package.weights->bytes), 0))
    return s;
  std::unique_ptr<GpuAbiState> gpu;
  if (qpalrtStatus s = createGpuAbiState(*package.device, gpu))
    return s;
  package.gpu = gpu.release();
  return QPALRT_SUCCESS;
}

/// Loads "code.<target>" (for nvptx, with the mgpu* functions pointed at the
/// package: its constructor loads its kernels) and resolves every entry
/// point.
qpalrtStatus loadCode(qpalrtPackage &package) {
  const std::string name = "code." + package.manifest.target;
  const char *section = name.c_str();
  const PackageSection *code = findSection(package, name);
  if (code->bytes == 0)
    return fail(QPALRT_ERROR_FORMAT, "section '%s' is empty", section);
  if (package.manifest.target == "nvptx") {
    if (qpalrtStatus s = openDevice(package))
      return s;
    exposeGpuAbi();
  }
  if (qpalrtStatus s =
          qpalrtCreateContext(QPALRT_DEVICE_CPU, 0, &package.context))
    return s;
  {
    std::optional<GpuAbiScope> scope;
    if (package.gpu)
      scope.emplace(*package.gpu);
    if (qpalrtStatus s = qpalrtLoadModuleData(
            package.context, code->data, size_t(code->bytes),
            QPALRT_MODULE_FORMAT_SHARED_OBJECT, &package.module)) {
      std::string message = qpalrtGetLastError();
      return fail(s, "section '%s': %s", section, message.c_str());
    }
    if (scope && scope->status())
      return fail(scope->status(),
                  "section '%s' failed to load its kernels: %s", section,
                  scope->message().c_str());
  }
  for (EntryPoint &entry : package.manifest.entryPoints) {
    qpalrtFunction *function = nullptr;
    if (qpalrtGetFunction(package.module, entry.symbol.c_str(), &function))
      return fail(QPALRT_ERROR_NOT_FOUND,
                  "entry point '%s' (batch %lld) not found in section '%s'",
                  entry.symbol.c_str(), static_cast<long long>(entry.batch),
                  section);
    // dlsym also searches the code's dependencies: a corrupted name that
    // happens to be a libc function must not pass for an entry point.
    if (!definedBy(package.module->handle, function->handle))
      return fail(QPALRT_ERROR_NOT_FOUND,
                  "entry point '%s' (batch %lld) is not defined by section "
                  "'%s' (the name resolves in another library)",
                  entry.symbol.c_str(), static_cast<long long>(entry.batch),
                  section);
    entry.function = reinterpret_cast<qpalpkgStepFn>(function->handle);
    if (!package.largest || entry.batch > package.largest->batch)
      package.largest = &entry;
    if (entry.batch == 1)
      package.single = &entry;
  }
  // The thread pool of qpal's host code, when the code has one (optional:
  // a package without it runs on the calling thread).
  if (void *hook = dlsym(package.module->handle, "qpal_set_threads"))
    package.setThreads = reinterpret_cast<void (*)(int)>(hook);
  return QPALRT_SUCCESS;
}

/// Frees what `package` holds (not the object): the sessions, then the code
/// (its destructor unloads its kernels), then the device memory.
qpalrtStatus release(qpalrtPackage &package) {
  qpalrtStatus first = QPALRT_SUCCESS;
  for (qpalrtSession *session : std::vector<qpalrtSession *>(
           package.sessions.begin(), package.sessions.end())) {
    qpalrtStatus s = qpalrtDestroySession(session);
    first = first ? first : s;
  }
  {
    std::optional<GpuAbiScope> scope;
    if (package.gpu)
      scope.emplace(*package.gpu);
    qpalrtStatus s = qpalrtDestroyContext(package.context);
    if (!s && scope && scope->status())
      s = fail(scope->status(), "%s", scope->message().c_str());
    first = first ? first : s;
  }
  if (package.gpu) {
    qpalrtStatus s = releaseGpuAbiState(*package.gpu);
    first = first ? first : s;
    delete package.gpu;
    package.gpu = nullptr;
  }
  // Frees the weights and whatever else is left in device memory.
  qpalrtStatus s = qpalrtDestroyContext(package.device);
  first = first ? first : s;
  package.device = nullptr;
  package.deviceWeights = nullptr;
  package.context = nullptr;
  package.module = nullptr;
  if (package.mapping)
    munmap(package.mapping, package.fileBytes);
  package.mapping = nullptr;
  return first;
}

/// Returns INVALID_ARGUMENT naming `what` if `pointer` is null.
qpalrtStatus checkNotNull(const void *pointer, const char *what,
                          const char *entryPoint) {
  if (pointer)
    return QPALRT_SUCCESS;
  return fail(QPALRT_ERROR_INVALID_ARGUMENT, "%s: '%s' is null", entryPoint,
              what);
}

/// Copies `value` into a fixed-size, NUL-terminated field.
template <size_t N>
void copyString(char (&field)[N], const std::string &value) {
  size_t length = std::min(value.size(), N - 1);
  std::memcpy(field, value.data(), length);
  field[length] = '\0';
}

} // namespace

namespace {

/// qpalrtOpenPackage, and without `withCode` qpalrtInspectPackage.
qpalrtStatus openPackage(const char *path, bool withCode, qpalrtPackage **out,
                         const char *entryPoint) {
  if (qpalrtStatus s = checkNotNull(path, "path", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(out, "out", entryPoint))
    return s;
  auto package = std::make_unique<qpalrtPackage>();
  package->path = path;
  qpalpkgHeader header;
  qpalrtStatus s = mapFile(path, *package);
  if (!s)
    s = checkHeader(*package, header);
  if (!s)
    s = readSectionTable(*package, header);
  if (!s)
    s = checkSectionChecksums(*package);
  if (!s)
    s = readContents(*package, header.formatVersion);
  if (!s && withCode)
    s = loadCode(*package);
  if (s) {
    std::string message = qpalrtGetLastError();
    release(*package);
    return fail(s, "%s: %s", path, message.c_str());
  }
  *out = package.release();
  return QPALRT_SUCCESS;
}

} // namespace

qpalrtStatus qpalrtOpenPackage(const char *path, qpalrtPackage **out) {
  return openPackage(path, /*withCode=*/true, out, "qpalrtOpenPackage");
}

qpalrtStatus qpalrtInspectPackage(const char *path, qpalrtPackage **out) {
  return openPackage(path, /*withCode=*/false, out, "qpalrtInspectPackage");
}

qpalrtStatus qpalrtClosePackage(qpalrtPackage *package) {
  if (!package)
    return QPALRT_SUCCESS;
  qpalrtStatus s = release(*package);
  delete package;
  return s;
}

qpalrtStatus qpalrtGetModelInfo(const qpalrtPackage *package,
                                qpalrtModelInfo *info) {
  if (qpalrtStatus s = checkNotNull(package, "package", "qpalrtGetModelInfo"))
    return s;
  if (qpalrtStatus s = checkNotNull(info, "info", "qpalrtGetModelInfo"))
    return s;
  const Manifest &manifest = package->manifest;
  qpalrtModelInfo result;
  std::memset(&result, 0, sizeof(result));
  result.vocabSize = manifest.vocabSize;
  result.hiddenSize = manifest.hiddenSize;
  result.layers = manifest.layers;
  result.heads = manifest.heads;
  result.kvHeads = manifest.kvHeads;
  result.headDim = manifest.headDim;
  result.contextLength = manifest.contextLength;
  copyString(result.name, manifest.name);
  copyString(result.target, manifest.target);
  result.bitsPerWeight = manifest.bitsPerWeight;
  result.packageBytes = package->fileBytes;
  result.weightBytes = package->weights->bytes;
  *info = result;
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtGetPackageSection(const qpalrtPackage *package,
                                     const char *name, const void **data,
                                     size_t *bytes) {
  const char *entryPoint = "qpalrtGetPackageSection";
  if (qpalrtStatus s = checkNotNull(package, "package", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(name, "name", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(data, "data", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(bytes, "bytes", entryPoint))
    return s;
  const PackageSection *section = findSection(*package, name);
  if (!section)
    return fail(QPALRT_ERROR_NOT_FOUND, "%s: no section '%s' in '%s'",
                entryPoint, name, package->path.c_str());
  *data = section->data;
  *bytes = size_t(section->bytes);
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtGetPackageSectionCount(const qpalrtPackage *package,
                                          size_t *count) {
  const char *entryPoint = "qpalrtGetPackageSectionCount";
  if (qpalrtStatus s = checkNotNull(package, "package", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(count, "count", entryPoint))
    return s;
  *count = package->sections.size();
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtGetPackageSectionAt(const qpalrtPackage *package,
                                       size_t index, const char **name,
                                       const void **data, size_t *bytes) {
  const char *entryPoint = "qpalrtGetPackageSectionAt";
  if (qpalrtStatus s = checkNotNull(package, "package", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(name, "name", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(data, "data", entryPoint))
    return s;
  if (qpalrtStatus s = checkNotNull(bytes, "bytes", entryPoint))
    return s;
  if (index >= package->sections.size())
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "%s: section %zu out of range: '%s' has %zu sections",
                entryPoint, index, package->path.c_str(),
                package->sections.size());
  const PackageSection &section = package->sections[index];
  *name = section.name.c_str();
  *data = section.data;
  *bytes = size_t(section.bytes);
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtSetThreads(qpalrtPackage *package, int threads) {
  if (qpalrtStatus s = checkNotNull(package, "package", "qpalrtSetThreads"))
    return s;
  if (threads < 0)
    return fail(QPALRT_ERROR_INVALID_ARGUMENT,
                "qpalrtSetThreads: %d threads; pass 0 for one per core",
                threads);
  package->threads = threads;
  if (package->setThreads)
    package->setThreads(threads);
  return QPALRT_SUCCESS;
}

qpalrtStatus qpalrtGetThreads(const qpalrtPackage *package, int *threads) {
  if (qpalrtStatus s = checkNotNull(package, "package", "qpalrtGetThreads"))
    return s;
  if (qpalrtStatus s = checkNotNull(threads, "threads", "qpalrtGetThreads"))
    return s;
  *threads = package->threads;
  return QPALRT_SUCCESS;
}
