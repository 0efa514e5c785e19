//===- TcqSplit.h - Fractional-rate TCQ over column halves ------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The reference's `tcomb` quantizer (quantizers.md, section 4.9;
// kernels-and-msq.md, section 4.8): columns [0, K/2) of the normalized
// weight are coded at KV1 and columns [K/2, K) at KV2, both with the one
// tlut of the spec, and each half is packed as an independent M x K/2 TCQ
// matrix. The codes of a split layer are the KV1 part followed by the KV2
// part (the kernel's `compressed1` and `compressed2`).
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_TCQSPLIT_H
#define QPAL_QUANT_TCQSPLIT_H

#include "qpal/Quant/Viterbi.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qpal {

/// The byte offset of the KV2 part: the size of the M x K/2 KV1 part.
uint64_t tcqSplitSecondPartOffset(int64_t rows, int64_t cols, unsigned kv1);

/// Encodes a rows x cols normalized weight (rows a multiple of 32, cols of
/// 64) and returns the packed KV1 part followed by the packed KV2 part.
llvm::Expected<std::vector<uint8_t>>
encodeTcqSplit(const float *weights, int64_t rows, int64_t cols, unsigned kv1,
               unsigned kv2, const TcqStateTable &table,
               const TcqEncodeOptions &options = {});

/// Decodes the codes of `encodeTcqSplit` into the rows x cols normalized
/// weight.
llvm::Expected<std::vector<float>> decodeTcqSplit(llvm::ArrayRef<uint8_t> codes,
                                                  int64_t rows, int64_t cols,
                                                  unsigned kv1, unsigned kv2,
                                                  const TcqStateTable &table,
                                                  CodebookPrecision precision);

} // namespace qpal

#endif // QPAL_QUANT_TCQSPLIT_H
