//===- DecodeSupport.h - Building blocks of code decoding -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Arith/memref building blocks the decode models compose into their
// `emitLaneDecode`: reading bit fields of packed codes and looking up
// codebook entries. Offsets known at compile time stay constants, so a
// decode unrolls into straight-line integer code. Every block takes scalar
// (one lane) or vector (a vector of lanes) offsets and indices and returns
// values of the same shape; a vector lookup is a `vector.gather`.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_DECODESUPPORT_H
#define QPAL_CONVERSION_QPALTOKERNELS_DECODESUPPORT_H

#include "qpal/Conversion/QPalToKernels/KernelDecode.h"

#include "mlir/IR/Builders.h"

#include <utility>

namespace qpal {

/// Returns an i64 holding the `numBits` (<= 57) bits that start `bitOffset`
/// bits into the little-endian byte string at `codes[byteOffset]`, bit 0
/// being the least significant bit of the first byte. With `words`, the
/// bits are read from its word view (`byteOffset` must be a multiple of the
/// word size).
mlir::Value emitLoadBitsLE(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::Value codes, mlir::Value byteOffset,
                           unsigned bitOffset, unsigned numBits,
                           const CodeWords &words = {});

/// Returns an i64 holding code `code` (`bits` wide) of a lane's LSB-first
/// stream over 32-bit words, word omega at byte `wordOffset(omega)`; a code
/// may straddle two words.
mlir::Value emitLoadWordStreamCode(
    mlir::OpBuilder &builder, mlir::Location loc, mlir::Value codes,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, unsigned)>
        wordOffset,
    unsigned code, unsigned bits, const CodeWords &words = {});

/// Returns `codebook[index * stride + component]` (f32) for an integer
/// `index` of any width.
mlir::Value emitCodebookLoad(mlir::OpBuilder &builder, mlir::Location loc,
                             mlir::Value codebook, mlir::Value index,
                             unsigned stride, unsigned component);

/// Returns value `index * stride + component` of a decode's codebook:
/// through `lookup` when given and it takes the index, else as
/// emitCodebookLoad from `codebook`.
mlir::Value emitCodebookLoad(mlir::OpBuilder &builder, mlir::Location loc,
                             mlir::Value codebook, CodebookLookup lookup,
                             mlir::Value index, unsigned stride,
                             unsigned component);

/// emitCodebookLoad from the codebook (and lookup) of a decode's `args`
/// (LaneDecodeArgs or SimtDecodeArgs).
template <typename DecodeArgs,
          typename = decltype(std::declval<DecodeArgs>().codebookLookup)>
mlir::Value emitCodebookLoad(mlir::OpBuilder &builder, mlir::Location loc,
                             const DecodeArgs &args, mlir::Value index,
                             unsigned stride, unsigned component) {
  return emitCodebookLoad(builder, loc, args.codebook, args.codebookLookup,
                          index, stride, component);
}

/// Returns the i32 holding f16(first) in its low and f16(second) in its
/// high half (f32 inputs).
mlir::Value emitPackHalves(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::Value first, mlir::Value second);

/// Returns codebook pair `entry` (values 2e and 2e + 1 of the f32
/// `codebook`) packed as by emitPackHalves: the pair table of 2-D codebooks.
mlir::Value emitCodebookPairEntry(mlir::OpBuilder &builder, mlir::Location loc,
                                  mlir::Value codebook, mlir::Value entry);

/// Returns scalar pair-table entry `entry` (an index): the levels `entry mod
/// 2^bits` (first) and `entry / 2^bits` (second) of the f32 `codebook`,
/// packed as by emitPackHalves: the pair table of 1-D codebooks.
mlir::Value emitScalarPairEntry(mlir::OpBuilder &builder, mlir::Location loc,
                                mlir::Value codebook, mlir::Value entry,
                                unsigned bits);

/// Returns entry `index` (an integer of any width) of the lane's copy of
/// the packed pair table (an i32).
mlir::Value emitPackedPairLoad(mlir::OpBuilder &builder, mlir::Location loc,
                               const PackedPairTable &packedPairs,
                               mlir::Value index);

/// Returns `element`, or `vector<N x element>` when `like` is a vector of
/// N lanes (the lane-vector decode of the CPU kernels).
mlir::Type shapedLike(mlir::Value like, mlir::Type element);

/// Returns an integer constant of `type`; a vector type gives a splat.
mlir::Value emitIntConstant(mlir::OpBuilder &builder, mlir::Location loc,
                            mlir::Type type, int64_t value);

/// Returns an i64 constant, shaped like `like` when given.
mlir::Value emitI64(mlir::OpBuilder &builder, mlir::Location loc, int64_t value,
                    mlir::Value like = {});

/// Returns `memory[positions[i]]` for every lane i: a `vector.gather` from
/// a 1-D memref at integer or index `positions` (a vector).
mlir::Value emitGather(mlir::OpBuilder &builder, mlir::Location loc,
                       mlir::Value memory, mlir::Value positions);

} // namespace qpal

#endif // QPAL_CONVERSION_QPALTOKERNELS_DECODESUPPORT_H
