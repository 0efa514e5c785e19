//===- Codebooks.h - The shipped TCQ, VQ and SQ codebooks -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Codebooks are 2^bits codewords of `dim` floats, in the normalized weight
// domain. The reference's files (TCQ tluts `tcq_lut_{T}x2`, SQ/VQ codebooks
// `vq_lut_{b}x{v}`) are compiled into the library, so qpal runs without the
// reference folder; `loadCodebookFile` reads the same format from disk.
// Encoders use the float32 values; kernels use the fp16-rounded ones
// (quantizers.md, sections 4.2, 6.1 and 9).
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_CODEBOOKS_H
#define QPAL_QUANT_CODEBOOKS_H

#include "qpal/Quant/QuantizerSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qpal {

/// Which codebook values a decoder uses.
enum class CodebookPrecision : uint8_t {
  /// The float32 values the encoders use (the reference's `hatW`).
  Fp32,
  /// The values rounded to fp16, as the inference kernels read them.
  Fp16,
};

/// 2^bits codewords of `dim` floats, row-major (`[entry][component]`).
class Codebook {
public:
  /// Takes `values` of size 2^bits * dim; the caller guarantees the size.
  Codebook(unsigned bits, unsigned dim, std::vector<float> values);

  /// Index bits (2^bits codewords).
  unsigned bits() const { return indexBits; }
  /// Components per codeword.
  unsigned dim() const { return dimension; }
  /// Number of codewords, 2^bits.
  size_t entries() const { return size_t{1} << indexBits; }

  /// All values, row-major, at the given precision.
  llvm::ArrayRef<float>
  values(CodebookPrecision precision = CodebookPrecision::Fp32) const {
    return precision == CodebookPrecision::Fp32 ? fp32 : fp16;
  }
  /// Component `component` of codeword `entry`.
  float at(size_t entry, unsigned component,
           CodebookPrecision precision = CodebookPrecision::Fp32) const {
    return values(precision)[entry * dimension + component];
  }
  /// The fp16 bit patterns the kernels receive, row-major.
  std::vector<uint16_t> halfBits() const;
  /// sqrt(mean(value^2)) over all values, accumulated in float64.
  double rms() const;
  /// True when dim() == 1 and the values are strictly increasing.
  bool isSortedScalar() const;

private:
  unsigned indexBits;
  unsigned dimension;
  std::vector<float> fp32;
  std::vector<float> fp16;
};

/// The file stem of a shipped codebook: `tcq_lut_{T}x2` for a TCQ tlut,
/// `vq_lut_{b}x{dim}` for an SQ or VQ codebook.
std::string codebookFileStem(bool tcq, unsigned bits, unsigned dim);

/// The stems of every embedded codebook file.
std::vector<std::string> embeddedCodebookStems();

/// The raw bytes of the embedded file `stem` (for integrity checks).
llvm::Expected<llvm::ArrayRef<uint8_t>>
embeddedCodebookBytes(llvm::StringRef stem);

/// The shipped TCQ tlut with 2^tlutBits two-dimensional codewords
/// (T = 9, 10, 11). The object lives for the whole program.
llvm::Expected<const Codebook *> shippedTcqCodebook(unsigned tlutBits);

/// The shipped SQ (dim 1) or VQ (dim 2) codebook with 2^bits codewords.
llvm::Expected<const Codebook *> shippedLutCodebook(unsigned bits,
                                                    unsigned dim);

/// The shipped codebook a palette quantizer uses (its tlut for TCQ and
/// TcqSplit); fails for f16.
llvm::Expected<const Codebook *> shippedCodebook(const QuantizerSpec &spec);

/// The fp16-precision values (widened to f32) the kernels of `spec` read:
/// codebookBytes() / 2 of them, none for a quantizer that reads no table
/// (f16, a computed trellis code). Kept for the program's lifetime.
llvm::Expected<llvm::ArrayRef<float>>
kernelCodebookValues(const QuantizerSpec &spec);

/// Decodes the raw file format (little-endian float32, no header) of a
/// codebook with 2^bits codewords of `dim` floats; checks the byte count
/// and that every value is finite.
llvm::Expected<Codebook> parseCodebook(llvm::ArrayRef<uint8_t> bytes,
                                       unsigned bits, unsigned dim);

/// Reads and parses a codebook file.
llvm::Expected<Codebook> loadCodebookFile(llvm::StringRef path, unsigned bits,
                                          unsigned dim);

} // namespace qpal

#endif // QPAL_QUANT_CODEBOOKS_H
