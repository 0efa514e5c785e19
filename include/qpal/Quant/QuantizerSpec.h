//===- QuantizerSpec.h - A palette quantizer, without MLIR ------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// `QuantizerSpec` is the MLIR-free description of one palette quantizer: its
// family, rates, codebook and storage arithmetic, and its name in the Q-Palette
// reference (`tcq_6_none_0.9`, `tcomb_6_7_0.5_none_0.9`, `ldlq_2_9_none_1.0`).
// The dialect's quantizer attributes convert to and from it, and everything
// that must agree between compiler passes, codecs and cost models (bits per
// weight, bytes, shape rules) is computed here, once.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_QUANTIZERSPEC_H
#define QPAL_QUANT_QUANTIZERSPEC_H

#include "qpal/Quant/FormatEnums.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qpal {

class QuantizerFamilyInfo;

/// Trellis state bits of every TCQ quantizer (`L` in QTIP).
constexpr unsigned kTcqStateBits = 16;
/// Weights per trellis step (`V`).
constexpr unsigned kTcqWeightsPerStep = 2;
/// Valid bits per trellis step.
constexpr unsigned kMinTcqKV = 2, kMaxTcqKV = 10;
/// Valid TCQ codebook ("tlut") sizes, in bits.
constexpr unsigned kMinTcqTlutBits = 9, kMaxTcqTlutBits = 11;
/// Valid index bits of the 2-D vector quantizer.
constexpr unsigned kMinVqBits = 2, kMaxVqBits = 12;
/// Valid index bits of the scalar quantizer.
constexpr unsigned kMinSqBits = 2, kMaxSqBits = 8;
/// The reference's default input scale: 0.9 for TCQ, 1.0 for VQ/SQ.
constexpr double kDefaultTcqScale = 0.9, kDefaultLutScale = 1.0;

/// Returns the tlut size the reference pairs with `kv` bits per step: 9 for
/// KV <= 8, 10 for KV = 9 and 11 for KV = 10.
unsigned defaultTlutBits(unsigned kv);

/// One palette quantizer. Build it with the named constructors; `verify`
/// reports parameters out of range.
struct QuantizerSpec {
  QuantizerFamily family = QuantizerFamily::F16;
  /// TCQ: bits per step. TcqSplit: the rate of columns [0, K/2).
  unsigned kv1 = 0;
  /// TcqSplit: the rate of columns [K/2, K). Equal to `kv1` for TCQ.
  unsigned kv2 = 0;
  /// TCQ and TcqSplit: codebook bits T (2^T two-dimensional entries).
  unsigned tlutBits = 0;
  /// VQ and SQ: index bits b (2^b codewords).
  unsigned indexBits = 0;
  /// The factor the normalized weights are scaled by before rounding.
  double scale = 1.0;
  /// TCQ and TcqSplit: how a state becomes its weights, the shipped lookup
  /// table or a computed code (`:1mad`, `:3inst` in the name).
  TrellisCode code = TrellisCode::Lut;
  /// Tensor-core or CUDA-core (SIMT) layout and kernel (`hasSimtLayout`).
  KernelKind kernel = KernelKind::TensorCore;
  /// Round with LDLQ against the layer's calibration Hessian (the name's
  /// `{hess}` field is `hess`; Ldlq.h) instead of each weight on its own
  /// (`none`). The codes and kernels are the same.
  bool hessian = false;

  static QuantizerSpec f16();
  static QuantizerSpec tcq(unsigned kv, std::optional<unsigned> tlutBits = {},
                           double scale = kDefaultTcqScale);
  static QuantizerSpec tcqSplit(unsigned kv1, unsigned kv2,
                                std::optional<unsigned> tlutBits = {},
                                double scale = kDefaultTcqScale);
  static QuantizerSpec vq(unsigned bits, double scale = kDefaultLutScale,
                          KernelKind kernel = KernelKind::TensorCore);
  static QuantizerSpec sq(unsigned bits, double scale = kDefaultLutScale,
                          KernelKind kernel = KernelKind::TensorCore);
  /// A lookup-table quantizer of `family` with `bits` index bits.
  static QuantizerSpec lut(QuantizerFamily family, unsigned bits,
                           double scale = kDefaultLutScale,
                           KernelKind kernel = KernelKind::TensorCore);

  /// The descriptor of `family` (QuantizerFamily.h), which every method
  /// below dispatches to.
  const QuantizerFamilyInfo &familyInfo() const;

  /// Parses a reference quantizer string (`tcq_{KV}_{hess}_{s}`,
  /// `tcomb_{KV1}_{KV2}_{r}_{hess}_{s}`, `ldlq_{v}_{b}_{hess}_{s}`, and
  /// `f16`). qpal extensions: `tcq_{KV}_t{T}_...` and `tcomb_..._t{T}_...`
  /// for a non-default codebook size, and a `:simt` suffix on `ldlq` names
  /// for the CUDA-core kernel. Errors name the offending field.
  static llvm::Expected<QuantizerSpec> parse(llvm::StringRef name);

  /// Returns the reference name; `parse(referenceName())` gives back `*this`.
  std::string referenceName() const;

  /// Reports a parameter outside its valid range, or success.
  llvm::Error verify() const;

  /// Code bits per weight (codebooks, scales and signs not included).
  double bitsPerWeight() const;
  /// Weights per code word: 2 for TCQ steps and VQ, 1 for SQ and f16.
  unsigned vectorDim() const;
  /// Bytes of packed codes for an M x K weight (fp16 values for f16).
  uint64_t codeBytes(int64_t rows, int64_t cols) const;
  /// Bytes of the fp16 codebook the kernel reads (0 for f16).
  uint64_t codebookBytes() const;
  /// Bytes of the per-row fp16 scales (0 for f16).
  uint64_t scaleBytes(int64_t rows) const;
  /// Everything one layer stores: codes + codebook + per-row scales. The
  /// rotation's sign vector is shared by a fusion domain and is counted by
  /// `signVectorBytes` once per domain.
  uint64_t storageBytes(int64_t rows, int64_t cols) const;

  /// The kernel family that implements this quantizer's dequant-matmul.
  KernelFamily kernelFamily() const;
  /// Whether the family also has a CUDA-core (SIMT) layout.
  bool hasSimtLayout() const;

  /// The row and column multiples an M x K weight must have for this
  /// quantizer's packed layout.
  unsigned requiredRowMultiple() const;
  unsigned requiredColMultiple() const;
  /// Returns a message naming the violated rule for a shape this quantizer
  /// cannot pack, or std::nullopt.
  std::optional<std::string> checkShape(int64_t rows, int64_t cols) const;

  // Kernel layout geometry: the one definition the packers, the reference
  // decoders and the kernel emitters share (TileLayout.h, TcqSplit.h,
  // SimtLayout.h).

  /// Column parts the weight is packed in: 2 for a column split (each half
  /// its own matrix), else 1.
  unsigned numColumnParts() const;
  /// Bytes one lane's segment of one 32 x 32 supertile occupies in column
  /// part `part` of a tensor-core layout (16 pairs of codes), or 0 when the
  /// codes are not in a tensor-core layout.
  unsigned laneSegmentBytes(unsigned part) const;
  /// Byte offset of column part `part`'s packed matrix in the codes of an
  /// M x K weight.
  uint64_t partByteOffset(int64_t rows, int64_t cols, unsigned part) const;
  /// Columns of one row chunk of the CUDA-core (SIMT) layout (1024 vectors),
  /// or 0 when the codes are not in a SIMT layout.
  unsigned simtChunkColumns() const;
  /// Entries of the packed pair table (two fp16 weights per 32-bit entry):
  /// every 2-D codeword (TCQ, VQ) or every pair of scalar codes (SQ up to 6
  /// bits, 2^(2b) entries); 0 when the kernels have none.
  unsigned packedPairEntries() const;

  /// The normalized MSE expected on an i.i.d. Gaussian source: the
  /// reference's measurement (data/quantizer_distortion.json) for palette
  /// members, and for other parameters the value of the reference quantizer
  /// of the same family and rate (the average of the two halves for a split
  /// that the reference did not measure).
  double expectedDistortion() const;

  bool operator==(const QuantizerSpec &other) const;
  bool operator!=(const QuantizerSpec &other) const {
    return !(*this == other);
  }
};

/// Bytes of a packed ±1 sign vector over `cols` input features.
inline uint64_t signVectorBytes(int64_t cols) {
  return (static_cast<uint64_t>(cols) + 7) / 8;
}

/// Formats `value` as Python's `str(float)` does for the reference's scale
/// fields: the shortest round-tripping decimal, with `.0` when integral.
std::string formatReferenceFloat(double value);

/// The Q-Palette palette: the 34 quantizers of the reference (TCQ 1.0..5.0,
/// tcomb 1.25..4.75, SQ 2..8, VQ 1.5..6), ordered by family, then bits.
std::vector<QuantizerSpec> referencePalette();

} // namespace qpal

#endif // QPAL_QUANT_QUANTIZERSPEC_H
