//===- KernelDecode.h - What a decode reads and gives --------- -*- C++ -*-===//
//-*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Types of the decode interfaces (DecodeInterfaces.td), the one place that
// emits the decode of packed codes into a kernel body. Every tensor-core layout
// of the palette stores, per 32 x 32 supertile and per lane w of a warp, the
// codes of 16 horizontal weight pairs: 4 tiles q (16 x 16, q = 2*j1 + i1)
// times 4 `mma.m16n8k16` A-fragment registers j. Pair (q, j) of lane w sits
// at supertile row 16*i1 + 8*(j&1) + w/4 and columns 16*j1 + 8*(j/2) +
// 2*(w%4) + {0, 1}, for every family, so kernels share their loops and ask
// the attribute only for the values.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_KERNELDECODE_H
#define QPAL_CONVERSION_QPALTOKERNELS_KERNELDECODE_H

#include "qpal/Quant/SimtLayout.h"
#include "qpal/Quant/TileLayout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace qpal {

/// Pairs a lane decodes per supertile in the tensor-core layouts (lanes,
/// supertiles and tiles are lib/Quant's kWarpLanes, kSupertileDim and
/// kTileDim).
constexpr unsigned kPairsPerLane = 16;

/// Words of one segment a kernel has already loaded into registers:
/// `words[i]` is word i of the segment at byte offset `offset` (the same SSA
/// value `LaneDecodeArgs::segmentOffset` returns for it).
struct CachedSegment {
  mlir::Value offset;
  llvm::SmallVector<mlir::Value, 8> words;
};

/// The packed codes viewed as little-endian words of `bytes` (2 or 4)
/// bytes, `memref<?xi16>` or `memref<?xi32>`, when every offset the decode
/// is given is a multiple of `bytes`: bit fields are then read a word, not
/// a byte, at a time. Null `words`: read bytes.
struct CodeWords {
  mlir::Value words;
  unsigned bytes = 0;
  /// Segments whose words are already in registers, loaded by the kernel
  /// with wide vector loads (the GPU lane's own segment; on the CPU every
  /// segment the lane vector reads).
  llvm::SmallVector<CachedSegment, 3> cached;
};

/// A packed pair table (`QuantizerSpec::packedPairEntries` i32 entries, any
/// memory space), possibly replicated so that the lanes of a warp read
/// different shared-memory banks: copy c of entry e is at e * replicas + c, and
/// this lane reads copy `replica` (an index; null when replicas is 1).
struct PackedPairTable {
  mlir::Value table;
  mlir::Value replica;
  unsigned replicas = 1;
};

/// A lookup of codebook values the kernel provides instead of memory reads
/// (the CPU kernels keep a small codebook in vector registers and permute
/// it): returns value `index * stride + component` of the f32 codebook for
/// a vector of lanes' `index`, or null to decline (the decode then reads
/// `LaneDecodeArgs::codebook`).
using CodebookLookup = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::Value index, unsigned stride,
    unsigned component)>;

/// What the decode of one lane's codes of one supertile reads.
///
/// A decode is written once, for one lane, with arith and memref ops, and
/// serves two shapes of kernel: on the GPU every value is a scalar of its
/// lane; in the CPU kernels `segmentOffset` returns a `vector<32xindex>`
/// (all lanes of the supertile at once), every value derived from it is a
/// vector of the same length, and codebook reads become `vector.gather`s.
/// The building blocks of DecodeSupport.h take either shape.
struct LaneDecodeArgs {
  /// The packed codes, `memref<?xi8>`.
  mlir::Value codes;
  /// The codebook as f32 values (the fp16 codebook widened), `memref<?xf32>`:
  /// 2 values per entry for TCQ and VQ, 1 for SQ.
  mlir::Value codebook;
  /// Which column part is decoded (`tcq_split`: 0 = columns [0, K/2)).
  unsigned columnPart = 0;
  /// Returns the byte offset (an `index`) in `codes` of the segment of lane
  /// (w + delta) mod 32 of the current supertile, in the current column
  /// part.
  llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                 unsigned delta)>
      segmentOffset;
  /// Optional word view of `codes` for aligned segment offsets.
  CodeWords codeWords;
  /// Optional packed pair table. When given, the decode returns packed
  /// pairs.
  PackedPairTable packedPairs;
  /// Optional in-register codebook lookup (see CodebookLookup).
  CodebookLookup codebookLookup;
};

/// One decoded weight pair of a lane: tile q, register j, and the values of
/// the even and odd column (f32).
struct DecodedPair {
  unsigned tile;
  unsigned reg;
  mlir::Value first;
  mlir::Value second;
  /// With `LaneDecodeArgs::packedPairs`: the pair as two f16 in an i32 (the
  /// first value in the low half); `first` and `second` are then null.
  mlir::Value packed = {};
};

/// What the decode of one lane's codes of one row chunk reads in the
/// CUDA-core (SIMT) layouts (quantizers.md section 6.6): a row's columns are
/// cut into chunks of 1024 * v; in a chunk with E lanes, lane w owns 32
/// codes spread over b 32-bit words, word omega at row-relative word
/// 32*b*k + w + omega*E.
struct SimtDecodeArgs {
  /// The packed codes, `memref<Nxi8>` (words are little-endian).
  mlir::Value codes;
  /// The codebook as f32 values.
  mlir::Value codebook;
  /// Returns the byte offset (an `index`) of the lane's word `omega`.
  llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                 unsigned omega)>
      wordOffset;
  /// Optional word view of `codes` (word offsets are multiples of 4).
  CodeWords codeWords = {};
  /// Optional in-register codebook lookup (see CodebookLookup).
  CodebookLookup codebookLookup = {};
};

/// One decoded code of a SIMT lane: it covers columns chunkBase +
/// 8*E*group + 8*lane + offset (+ 1 for the second value of a 2-D code).
struct DecodedSimtCode {
  unsigned group;
  unsigned offset;
  mlir::Value first;
  mlir::Value second; // null for scalar codes
};

/// Codes one SIMT lane decodes per row chunk.
constexpr unsigned kSimtCodesPerLane = kSimtLaneCodes;

/// The supertile-relative row of pair (q, j) of lane `lane` (an index value).
mlir::Value emitPairRow(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Value lane, unsigned tile, unsigned reg);
/// The supertile-relative column of the even weight of pair (q, j).
mlir::Value emitPairColumn(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::Value lane, unsigned tile, unsigned reg);

} // namespace qpal

#endif // QPAL_CONVERSION_QPALTOKERNELS_KERNELDECODE_H
