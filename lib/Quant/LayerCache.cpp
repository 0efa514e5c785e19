//===- LayerCache.cpp - Quantized layers kept between compilations --------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/LayerCache.h"

#include "qpal/Support/OutputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/xxhash.h"

#include <cstdlib>
#include <cstring>

using namespace qpal;

namespace {

/// The file's first bytes; the last digit is the format version.
constexpr char kMagic[8] = {'Q', 'P', 'A', 'L', 'L', 'Y', 'R', '1'};

/// What precedes the payload (codes, scales, signs).
struct Header {
  char magic[8];
  int64_t rows, cols;
  uint64_t codeBytes, scaleCount, signCount;
  uint64_t rotated;
  uint64_t checksum; // xxh3 of the payload
  char key[64];      // the file's own key: a renamed file is a miss
};
static_assert(sizeof(Header) == 128, "the header is 128 bytes");

template <typename T> llvm::ArrayRef<uint8_t> bytesOf(llvm::ArrayRef<T> a) {
  return {reinterpret_cast<const uint8_t *>(a.data()), a.size() * sizeof(T)};
}

} // namespace

LayerCache::LayerCache(std::string directory)
    : directory(std::move(directory)) {}

std::string LayerCache::getDefaultDirectory() {
  if (const char *dir = std::getenv("QPAL_CACHE_DIR"); dir && *dir)
    return dir;
  llvm::SmallString<256> path;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    llvm::sys::path::append(path, xdg, "qpal", "layers");
    return std::string(path);
  }
  if (const char *home = std::getenv("HOME"); home && *home) {
    llvm::sys::path::append(path, home, ".cache", "qpal", "layers");
    return std::string(path);
  }
  return "";
}

std::string LayerCache::key(const QuantizerSpec &spec,
                            llvm::ArrayRef<float> weights, int64_t rows,
                            int64_t cols, uint64_t seed,
                            llvm::ArrayRef<double> hessian) {
  llvm::SHA256 hash;
  std::string head =
      llvm::formatv("{0}|{1}x{2}|seed {3}|hessian {4}|", spec.referenceName(),
                    rows, cols, seed, hessian.size())
          .str();
  hash.update(llvm::StringRef(kMagic, sizeof(kMagic)));
  hash.update(head);
  hash.update(bytesOf(weights));
  if (spec.hessian)
    hash.update(bytesOf(hessian));
  std::array<uint8_t, 32> digest = hash.final();
  return llvm::toHex(digest, /*LowerCase=*/true);
}

std::string LayerCache::path(llvm::StringRef key) const {
  llvm::SmallString<256> file(directory);
  llvm::sys::path::append(file, key + ".qpallayer");
  return std::string(file);
}

std::optional<QuantizedLayer> LayerCache::load(llvm::StringRef key,
                                               const QuantizerSpec &spec,
                                               int64_t rows,
                                               int64_t cols) const {
  if (directory.empty())
    return std::nullopt;
  auto buffer = llvm::MemoryBuffer::getFile(path(key), /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  llvm::StringRef bytes = (*buffer)->getBuffer();
  Header header;
  if (bytes.size() < sizeof(Header))
    return std::nullopt;
  std::memcpy(&header, bytes.data(), sizeof(Header));
  uint64_t expectedCodes = spec.codeBytes(rows, cols);
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0 ||
      header.rows != rows || header.cols != cols ||
      header.codeBytes != expectedCodes ||
      (header.scaleCount != 0 && header.scaleCount != uint64_t(rows)) ||
      (header.signCount != 0 && header.signCount != uint64_t(cols)) ||
      header.rotated > 1 || key.size() != sizeof(header.key) ||
      std::memcmp(header.key, key.data(), sizeof(header.key)) != 0)
    return std::nullopt;
  uint64_t payload =
      header.codeBytes + 2 * header.scaleCount + 4 * header.signCount;
  if (bytes.size() != sizeof(Header) + payload)
    return std::nullopt;
  llvm::ArrayRef<uint8_t> body(reinterpret_cast<const uint8_t *>(bytes.data()) +
                                   sizeof(Header),
                               payload);
  if (llvm::xxh3_64bits(body) != header.checksum)
    return std::nullopt;
  QuantizedLayer layer;
  layer.spec = spec;
  layer.rows = rows;
  layer.cols = cols;
  layer.rotated = header.rotated != 0;
  const uint8_t *at = body.data();
  layer.codes.assign(at, at + header.codeBytes);
  at += header.codeBytes;
  layer.scales.resize(header.scaleCount);
  std::memcpy(layer.scales.data(), at, 2 * header.scaleCount);
  at += 2 * header.scaleCount;
  layer.signs.resize(header.signCount);
  std::memcpy(layer.signs.data(), at, 4 * header.signCount);
  return layer;
}

llvm::Error LayerCache::store(llvm::StringRef key,
                              const QuantizedLayer &layer) const {
  if (directory.empty())
    return llvm::Error::success();
  if (std::error_code error = llvm::sys::fs::create_directories(directory))
    return llvm::createStringError(
        error, llvm::formatv("cannot create the layer cache '{0}': {1}",
                             directory, error.message()));
  std::string payload;
  llvm::ArrayRef<uint8_t> codes(layer.codes),
      scales = bytesOf(llvm::ArrayRef(layer.scales)),
      signs = bytesOf(llvm::ArrayRef(layer.signs));
  payload.append(codes.begin(), codes.end());
  payload.append(scales.begin(), scales.end());
  payload.append(signs.begin(), signs.end());
  Header header;
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.rows = layer.rows;
  header.cols = layer.cols;
  header.codeBytes = layer.codes.size();
  header.scaleCount = layer.scales.size();
  header.signCount = layer.signs.size();
  header.rotated = layer.rotated ? 1 : 0;
  if (key.size() != sizeof(header.key))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "a layer cache key has 64 hex digits");
  std::memcpy(header.key, key.data(), sizeof(header.key));
  header.checksum = llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(payload.data()), payload.size()));
  std::string file(reinterpret_cast<const char *>(&header), sizeof(Header));
  file += payload;
  return writeOutputFile(path(key), file);
}
