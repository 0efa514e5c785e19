//===- Codebooks.cpp - The shipped TCQ, VQ and SQ codebooks ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Codebooks.h"

#include "Diagnostics.h"
#include "EmbeddedCodebooks.h"
#include "qpal/Quant/Half.h"
#include "qpal/Quant/QuantizerFamily.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

using namespace qpal;

using detail::makeError;

Codebook::Codebook(unsigned bits, unsigned dim, std::vector<float> values)
    : indexBits(bits), dimension(dim), fp32(std::move(values)) {
  assert(fp32.size() == (size_t{1} << bits) * dim && "codebook size mismatch");
  fp16.reserve(fp32.size());
  for (float value : fp32)
    fp16.push_back(roundToHalf(value));
}

std::vector<uint16_t> Codebook::halfBits() const {
  std::vector<uint16_t> bits;
  bits.reserve(fp32.size());
  for (float value : fp32)
    bits.push_back(floatToHalfBits(value));
  return bits;
}

double Codebook::rms() const {
  double sum = 0;
  for (float value : fp32)
    sum += static_cast<double>(value) * value;
  return std::sqrt(sum / static_cast<double>(fp32.size()));
}

bool Codebook::isSortedScalar() const {
  if (dimension != 1)
    return false;
  for (size_t i = 1; i < fp32.size(); ++i)
    if (!(fp32[i - 1] < fp32[i]))
      return false;
  return true;
}

std::string qpal::codebookFileStem(bool tcq, unsigned bits, unsigned dim) {
  return llvm::formatv("{0}_{1}x{2}", tcq ? "tcq_lut" : "vq_lut", bits, dim)
      .str();
}

std::vector<std::string> qpal::embeddedCodebookStems() {
  std::vector<std::string> stems;
  for (size_t i = 0; i < detail::kNumEmbeddedCodebookFiles; ++i)
    stems.push_back(detail::kEmbeddedCodebookFiles[i].name);
  return stems;
}

llvm::Expected<llvm::ArrayRef<uint8_t>>
qpal::embeddedCodebookBytes(llvm::StringRef stem) {
  for (size_t i = 0; i < detail::kNumEmbeddedCodebookFiles; ++i) {
    const detail::EmbeddedFile &file = detail::kEmbeddedCodebookFiles[i];
    if (stem == file.name)
      return llvm::ArrayRef<uint8_t>(file.data, file.size);
  }
  return makeError(llvm::formatv("no embedded codebook named '{0}'", stem));
}

llvm::Expected<Codebook> qpal::parseCodebook(llvm::ArrayRef<uint8_t> bytes,
                                             unsigned bits, unsigned dim) {
  if (bits == 0 || bits > 16 || dim == 0 || dim > 8)
    return makeError(llvm::formatv(
        "expects a codebook of 2^1..2^16 codewords of 1..8 values, got "
        "2^{0} x {1}",
        bits, dim));
  size_t count = (size_t{1} << bits) * dim;
  if (bytes.size() != 4 * count)
    return makeError(llvm::formatv(
        "expects {0} bytes for a codebook of 2^{1} x {2} float32 values, got "
        "{3}",
        4 * count, bits, dim, bytes.size()));
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t word = static_cast<uint32_t>(bytes[4 * i]) |
                    static_cast<uint32_t>(bytes[4 * i + 1]) << 8 |
                    static_cast<uint32_t>(bytes[4 * i + 2]) << 16 |
                    static_cast<uint32_t>(bytes[4 * i + 3]) << 24;
    float value;
    std::memcpy(&value, &word, sizeof(value));
    if (!std::isfinite(value))
      return makeError(llvm::formatv(
          "expects finite codebook values, got a non-finite value at index "
          "{0}",
          i));
    values[i] = value;
  }
  return Codebook(bits, dim, std::move(values));
}

llvm::Expected<Codebook> qpal::loadCodebookFile(llvm::StringRef path,
                                                unsigned bits, unsigned dim) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(llvm::formatv("cannot read codebook '{0}': {1}", path,
                                   buffer.getError().message()));
  llvm::StringRef data = (*buffer)->getBuffer();
  auto parsed = parseCodebook(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(data.data()),
                              data.size()),
      bits, dim);
  if (!parsed)
    return makeError(llvm::formatv("codebook '{0}': {1}", path,
                                   llvm::toString(parsed.takeError())));
  return parsed;
}

/// Decodes an embedded file once and keeps it for the program's lifetime.
static llvm::Expected<const Codebook *> shipped(bool tcq, unsigned bits,
                                                unsigned dim) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Codebook>> cache;
  std::string stem = codebookFileStem(tcq, bits, dim);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(stem);
  if (it != cache.end())
    return it->second.get();
  auto bytes = embeddedCodebookBytes(stem);
  if (!bytes) {
    llvm::consumeError(bytes.takeError());
    return makeError(llvm::formatv(
        "no shipped {0} codebook with 2^{1} codewords of dimension {2}",
        tcq ? "TCQ" : (dim == 1 ? "SQ" : "VQ"), bits, dim));
  }
  auto parsed = parseCodebook(*bytes, bits, dim);
  if (!parsed)
    return parsed.takeError();
  auto owned = std::make_unique<Codebook>(std::move(*parsed));
  const Codebook *result = owned.get();
  cache.emplace(stem, std::move(owned));
  return result;
}

llvm::Expected<const Codebook *> qpal::shippedTcqCodebook(unsigned tlutBits) {
  return shipped(/*tcq=*/true, tlutBits, 2);
}

llvm::Expected<const Codebook *> qpal::shippedLutCodebook(unsigned bits,
                                                          unsigned dim) {
  return shipped(/*tcq=*/false, bits, dim);
}

llvm::Expected<const Codebook *>
qpal::shippedCodebook(const QuantizerSpec &spec) {
  return spec.familyInfo().codebook(spec);
}

llvm::Expected<llvm::ArrayRef<float>>
qpal::kernelCodebookValues(const QuantizerSpec &spec) {
  if (spec.codebookBytes() == 0)
    return llvm::ArrayRef<float>();
  auto codebook = shippedCodebook(spec);
  if (!codebook)
    return codebook.takeError();
  return (*codebook)->values(CodebookPrecision::Fp16);
}
