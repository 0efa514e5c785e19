//===- SimtLayout.h - CUDA-core layouts of VQ and SQ codes ------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The SIMT (CUDA-core) code layouts of quantizers.md, section 6.6 and
// kernels-and-msq.md, sections 6 and 7. Each row is cut into chunks of 1024
// vectors (1024 v columns); a full chunk has E = 32 lanes, the last partial
// chunk E = (vectors left) / 32. Lane w of chunk k decodes 32 vectors:
// number c = g (8 / v) + i sits at column 1024 v k + 8 E g + 8 w + i v
// (g < 4 v, i < 8 / v). Its codes form a 32 b-bit little-endian integer,
// code c at bits [c b, (c + 1) b), stored as b uint32 words; word w' of the
// lane is word 32 b k + w' E + w of the row. The buffer is rows x
// (cols b / (32 v)) little-endian uint32 words.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_SIMTLAYOUT_H
#define QPAL_QUANT_SIMTLAYOUT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qpal {

/// Vectors of one row chunk of the SIMT layout, and codes one lane decodes
/// per chunk.
constexpr int64_t kSimtChunkVectors = 1024, kSimtLaneCodes = 32;

/// Packs row-major codes (one per `dim` columns) into the SIMT layout. cols
/// must be a multiple of 32 dim (32 for SQ, 64 for VQ).
llvm::Expected<std::vector<uint8_t>> packLutSimt(llvm::ArrayRef<uint16_t> codes,
                                                 int64_t rows, int64_t cols,
                                                 unsigned bits, unsigned dim);

/// The inverse of `packLutSimt`.
llvm::Expected<std::vector<uint16_t>>
unpackLutSimt(llvm::ArrayRef<uint8_t> packed, int64_t rows, int64_t cols,
              unsigned bits, unsigned dim);

/// Converts a tensor-core layout buffer to the SIMT layout, as the
/// reference does at load time (`convert_tensor_core_to_simt`).
llvm::Expected<std::vector<uint8_t>>
convertTensorCoreToSimt(llvm::ArrayRef<uint8_t> packed, int64_t rows,
                        int64_t cols, unsigned bits, unsigned dim);

} // namespace qpal

#endif // QPAL_QUANT_SIMTLAYOUT_H
