//===- TileLayout.h - 16x16 tiles in mma fragment order ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The tensor-core layouts (TCQ, VQ, SQ) share one geometry (quantizers.md,
// sections 4.4, 4.7 and 6.5; kernels-and-msq.md, sections 4.3 and 4.4):
//
// - A 16 x 16 tile is read in m16n8k16 A-fragment order: sequence position
//   t in [0, 256) is weight (row, col) of the tile with lane = t >> 3,
//   reg = (t >> 1) & 3, e = t & 1, row = 8 (reg & 1) + (lane >> 2) and
//   col = 8 (reg >> 1) + 2 (lane & 3) + e.
// - 32 x 32 supertiles are visited row-major; each holds the 2 x 2 tiles
//   (2 I2 + i1, 2 J2 + j1) in the order q = 2 j1 + i1 (row fastest).
// - Inside a supertile the packed data is lane-major: the 32 lanes' segments
//   follow each other, and a lane's segment holds its chunk of the 4 tiles.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_TILELAYOUT_H
#define QPAL_QUANT_TILELAYOUT_H

#include <cstdint>

namespace qpal {

/// Rows and columns of an mma tile.
constexpr unsigned kTileDim = 16;
/// Weights per tile.
constexpr unsigned kTileWeights = kTileDim * kTileDim;
/// Rows and columns of a supertile (2 x 2 tiles).
constexpr unsigned kSupertileDim = 32;
/// Lanes of a warp; each owns one chunk of every tile.
constexpr unsigned kWarpLanes = 32;

/// A weight inside a 16 x 16 tile.
struct TilePosition {
  unsigned row;
  unsigned col;
};

/// Returns the tile position of sequence position `t` (A-fragment order).
constexpr TilePosition tileSequencePosition(unsigned t) {
  unsigned lane = t >> 3, reg = (t >> 1) & 3, e = t & 1;
  return {8 * (reg & 1) + (lane >> 2), 8 * (reg >> 1) + 2 * (lane & 3) + e};
}

/// A tile of a matrix, by tile row and tile column.
struct TileCoord {
  int64_t row;
  int64_t col;
};

/// Returns the tile at position `q` (= 2 j1 + i1) of supertile
/// (supertileRow, supertileCol).
constexpr TileCoord supertileMember(int64_t supertileRow, int64_t supertileCol,
                                    unsigned q) {
  return {2 * supertileRow + (q & 1), 2 * supertileCol + (q >> 1)};
}

} // namespace qpal

#endif // QPAL_QUANT_TILELAYOUT_H
