//===- LutQuantizers.h - VQ and SQ with fixed codebooks ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The look-up-table quantizers `ldlq_{v}_{b}` (quantizers.md, sections 6.1
// and 6.5): each weight (SQ, v = 1) or each horizontal pair
// (Wn[r, 2k], Wn[r, 2k + 1]) (VQ, v = 2) is replaced by the nearest of 2^b
// codewords, with squared Euclidean distances in float64 on the unrounded
// targets and the lowest index winning a tie (the reference's float64
// `torch.cdist` + `argmin`).
//
// Codes are kept row-major as one uint16 per vector ([rows][cols / v]).
// The tensor-core layout packs them LSB-first per lane chunk: in supertile
// (I2, J2), lane w holds for each tile q = 2 j1 + i1 the codes of sequence
// positions 8 w .. 8 w + 7 (SQ) or of the pairs 4 w .. 4 w + 3 (VQ), code e
// at bits [e b, (e + 1) b) of the chunk, the chunks at offsets of
// 8 b q (SQ) or 4 b q (VQ) bits of the lane's little-endian segment.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_LUTQUANTIZERS_H
#define QPAL_QUANT_LUTQUANTIZERS_H

#include "qpal/Quant/Codebooks.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qpal {

/// Exact nearest-codeword search for 1-D and 2-D codebooks. Codewords are
/// sorted by their first component; a query scans outwards from its own
/// first component and stops once that component alone is farther than the
/// best distance, so it returns exactly what a brute-force scan would.
class NearestCodeword {
public:
  /// Prepares the search; fails for a codebook that is not 1-D or 2-D.
  static llvm::Expected<NearestCodeword> create(const Codebook &codebook);
  /// Prepares the search over `values.size() / dim` codewords of `dim`
  /// (1 or 2) values, row-major.
  static llvm::Expected<NearestCodeword> create(llvm::ArrayRef<float> values,
                                                unsigned dim);

  /// The index of the codeword nearest to `target` (dim() values), ties to
  /// the lowest index.
  uint32_t find(const double *target) const;

  /// The codeword dimension (1 or 2).
  unsigned dim() const { return dimension; }

private:
  NearestCodeword() = default;
  unsigned dimension = 0;
  /// Codewords sorted by (first component, index).
  std::vector<double> sortedFirst, sortedSecond;
  std::vector<uint32_t> sortedIndex;
};

/// Checks a VQ/SQ code-matrix shape: non-empty, cols divisible by dim and
/// by `colMultiple`, rows by `rowMultiple`. `what` names the caller.
llvm::Error checkLutShape(llvm::StringRef what, int64_t rows, int64_t cols,
                          unsigned dim, unsigned rowMultiple,
                          unsigned colMultiple);

/// Encodes a rows x cols normalized weight (row-major) with `codebook`.
/// Returns rows * cols / dim codes, row-major. Fails on a bad shape or a
/// non-finite weight.
llvm::Expected<std::vector<uint16_t>> encodeLutCodes(const float *weights,
                                                     int64_t rows, int64_t cols,
                                                     const Codebook &codebook,
                                                     unsigned threads = 0);

/// Reconstructs the rows x cols normalized weight of row-major codes.
llvm::Expected<std::vector<float>>
decodeLutCodes(llvm::ArrayRef<uint16_t> codes, int64_t rows, int64_t cols,
               const Codebook &codebook, CodebookPrecision precision);

/// Packs row-major codes (2^bits codewords of dimension `dim`) into the
/// tensor-core layout: rows * cols * bits / (8 dim) bytes. Rows and cols
/// must be multiples of 32.
llvm::Expected<std::vector<uint8_t>>
packLutTensorCore(llvm::ArrayRef<uint16_t> codes, int64_t rows, int64_t cols,
                  unsigned bits, unsigned dim);

/// The inverse of `packLutTensorCore`.
llvm::Expected<std::vector<uint16_t>>
unpackLutTensorCore(llvm::ArrayRef<uint8_t> packed, int64_t rows, int64_t cols,
                    unsigned bits, unsigned dim);

} // namespace qpal

#endif // QPAL_QUANT_LUTQUANTIZERS_H
