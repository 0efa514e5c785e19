//===- Trellis.h - Bitshift-trellis TCQ decoding and packing ----*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The decode side of trellis-coded quantization (quantizers.md, sections 4.2
// to 4.8): 16-bit states, their `quantlut_sym` reconstructions, the per-tile
// circular bit streams and the kernel layout of those streams.
//
// - A tile is 16 x 16 weights read in mma fragment order (TileLayout.h); its
//   128 trellis steps code the weight pairs t = (2k, 2k + 1).
// - State s decodes through h = s (s + 1) mod 2^16 to
//   (sign * tlut[idx][0], tlut[idx][1]) with idx = (h >> (15 - T)) mod 2^T
//   and sign = -1 when bit 15 of h is set.
// - A tile's stream is N = 128 KV bits, MSB first, stored as 8 KV uint16
//   words (stream bit 16 w + j is bit 15 - j of word w); state k is the
//   circular 16-bit window at bit k KV.
// - The kernel layout interleaves the streams of the 4 tiles of a supertile
//   lane by lane: lane w's 2 KV-byte little-endian segment holds, for tile
//   q = 2 j1 + i1, the stream bits [4 KV w, 4 KV (w + 1)) as an integer at
//   bit offset 4 KV q, its first stream bit most significant.
//
// Tile-level arrays (states, streams) list tiles row-major: tile (I, J) is
// number I * (cols / 16) + J.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_TRELLIS_H
#define QPAL_QUANT_TRELLIS_H

#include "qpal/Quant/Codebooks.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace qpal {

/// Trellis steps per 16 x 16 tile.
constexpr unsigned kTcqStepsPerTile = 128;
/// Number of 16-bit trellis states.
constexpr uint32_t kTcqStates = 1u << 16;

/// The `quantlut_sym` hash h = s (s + 1) mod 2^16.
constexpr uint32_t tcqStateHash(uint32_t state) {
  return (state * (state + 1)) & 0xFFFFu;
}
/// The tlut row that `state` decodes to.
constexpr uint32_t tcqCodewordIndex(uint32_t state, unsigned tlutBits) {
  return (tcqStateHash(state) >> (15 - tlutBits)) & ((1u << tlutBits) - 1);
}
/// True when `state` negates the first component of its codeword.
constexpr bool tcqSignFlip(uint32_t state) {
  return (tcqStateHash(state) & 0x8000u) != 0;
}

/// uint16 words of one tile's stream.
constexpr unsigned tcqStreamWords(unsigned kv) { return 8 * kv; }

/// The reconstruction of all 2^16 states for one tlut, at fp32 and at fp16
/// precision, as two 64-byte aligned arrays per precision (first and second
/// component), ready for vector loads. Cheap to copy (shared storage).
class TcqStateTable {
public:
  /// Builds the table of a 2-D tlut with 2^T codewords, T in [1, 15].
  static llvm::Expected<TcqStateTable> create(const Codebook &tlut);
  /// The table of the shipped tlut with 2^tlutBits codewords (built once).
  static llvm::Expected<const TcqStateTable *> shipped(unsigned tlutBits);
  /// The table of a computed code (ComputedTrellis.h; built once): no tlut,
  /// `tlutBits()` is 0.
  static const TcqStateTable *computed(TrellisCode code);

  /// T.
  unsigned tlutBits() const { return bits; }
  /// First components (the even column) of every state's reconstruction.
  const float *first(CodebookPrecision precision) const;
  /// Second components (the odd column).
  const float *second(CodebookPrecision precision) const;
  /// The reference's rms(lut): the float64 RMS of the expanded fp32 table.
  double rms() const { return rmsValue; }

private:
  TcqStateTable() = default;
  /// Fills a table of `bits` from `value(state, {fp32 first, fp32 second,
  /// fp16 first, fp16 second})` and computes the fp32 rms.
  static TcqStateTable
  build(unsigned bits, llvm::function_ref<void(uint32_t, float (&)[4])> value);
  unsigned bits = 0;
  double rmsValue = 0;
  /// fp32 first, fp32 second, fp16 first, fp16 second; 2^16 each.
  std::shared_ptr<float> storage;
};

/// True when the 128 `states` of one tile form a tail-biting path: every
/// state's low 16 - KV bits are the next state's high bits, and the last
/// state's low bits are the first state's high bits.
bool isTailBiting(llvm::ArrayRef<uint16_t> states, unsigned kv);

/// Packs the states of every tile (128 per tile) into its 8 KV-word
/// stream; fails if a tile is not tail-biting or KV is out of [2, 10].
llvm::Expected<std::vector<uint16_t>>
packTcqStreams(llvm::ArrayRef<uint16_t> states, unsigned kv);

/// Reads every tile's 128 states back from its circular stream.
llvm::Expected<std::vector<uint16_t>>
unpackTcqStreams(llvm::ArrayRef<uint16_t> streams, unsigned kv);

/// Interleaves tile streams (row-major tiles of a rows x cols matrix) into
/// the kernel layout: rows * cols * KV / 16 bytes.
llvm::Expected<std::vector<uint8_t>>
packTcqKernelLayout(llvm::ArrayRef<uint16_t> streams, int64_t rows,
                    int64_t cols, unsigned kv);

/// The inverse of `packTcqKernelLayout`.
llvm::Expected<std::vector<uint16_t>>
unpackTcqKernelLayout(llvm::ArrayRef<uint8_t> packed, int64_t rows,
                      int64_t cols, unsigned kv);

/// Reconstructs a rows x cols normalized weight from tile states.
llvm::Expected<std::vector<float>>
reconstructTcqStates(llvm::ArrayRef<uint16_t> states, int64_t rows,
                     int64_t cols, const TcqStateTable &table,
                     CodebookPrecision precision);

/// The reference decoder: reads each state straight from the kernel-layout
/// bytes (the window of stream bits (4 w + j) KV.. of a tile, continuing
/// into the chunks of lanes w + 1 and w + 2), and reconstructs the rows x
/// cols normalized weight.
llvm::Expected<std::vector<float>>
decodeTcqKernelLayout(llvm::ArrayRef<uint8_t> packed, int64_t rows,
                      int64_t cols, unsigned kv, const TcqStateTable &table,
                      CodebookPrecision precision);

/// Checks the parameters shared by the TCQ codecs: KV in [2, 10], rows and
/// cols positive multiples of `multiple` (16 for tiles, 32 for the kernel
/// layout). `what` names the caller in the message.
llvm::Error checkTcqShape(llvm::StringRef what, int64_t rows, int64_t cols,
                          unsigned kv, unsigned multiple);

} // namespace qpal

#endif // QPAL_QUANT_TRELLIS_H
