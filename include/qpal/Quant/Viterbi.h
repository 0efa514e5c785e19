//===- Viterbi.h - Tail-biting Viterbi encoder for TCQ ----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The TCQ encoder of quantizers.md, section 4.5, which is the compile-time hot
// spot of qpal. Per 16 x 16 tile:
//
// 1. The 256 targets (sequence order, rounded to fp16) are rotated by 128
//    and encoded without constraints; `overlap` is the top 16 - KV bits of
//    the state that covers original step 0 (step 64 of the rotated path).
// 2. The original sequence is encoded with the start states restricted to
//    s >> KV == overlap and the end states to s mod 2^(16-KV) == overlap,
//    which makes the path tail-biting.
//
// Both passes run cost_k(s) = e(s, k) + min_d cost_{k-1}((s >> KV) +
// d 2^(16-KV)) over all 2^16 states with fp32 branch metrics
// e = (r0(s) - x0)^2 + (r1(s) - x1)^2 (no fused multiply-add), and break ties
// towards the lowest predecessor digit d and the lowest final state, like
// the reference's torch.min / argmin.
//
// Implementation: a step needs only the per-group minima of the previous
// step, so a pass keeps one vector of 2^(16-KV) minima per step (not the
// 2^16 costs, and no arg-min indices). The predecessor of a state on the
// final path is recovered afterwards as the first d whose recomputed cost
// equals the stored minimum, which is exact because the recomputation
// performs the same fp32 operations. The step kernel has scalar, AVX2 and
// AVX-512 versions (runtime dispatch); all produce bit-identical states.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_VITERBI_H
#define QPAL_QUANT_VITERBI_H

#include "qpal/Quant/Trellis.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace qpal {

/// The vector instruction set of the Viterbi step kernel.
enum class SimdLevel : uint8_t { Scalar = 0, Avx2 = 1, Avx512 = 2 };

/// The widest level this CPU and build support.
SimdLevel detectSimdLevel();
/// True when `level` can run on this CPU.
bool isSimdLevelSupported(SimdLevel level);
/// `"scalar"`, `"avx2"` or `"avx512"`.
const char *stringifySimdLevel(SimdLevel level);

/// Options of the TCQ encoder.
struct TcqEncodeOptions {
  /// Worker threads; 0 uses every hardware thread.
  unsigned threads = 0;
  /// The step kernel; unset picks `detectSimdLevel()`. Every level gives
  /// the same states.
  std::optional<SimdLevel> simd;
};

/// The Viterbi encoder for one tlut and one KV.
class TcqEncoder {
public:
  /// Scratch memory for encoding one tile at a time (one per thread).
  class Workspace {
  public:
    /// Frees the scratch memory.
    ~Workspace();
    /// Workspaces move (one per worker in a vector) but do not copy.
    Workspace(Workspace &&) noexcept;
    Workspace &operator=(Workspace &&) noexcept;

  private:
    friend class TcqEncoder;
    struct Impl;
    explicit Workspace(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl;
  };

  /// Creates an encoder; fails for KV outside [2, 10] or an unsupported
  /// SIMD level.
  static llvm::Expected<TcqEncoder> create(const TcqStateTable &table,
                                           unsigned kv,
                                           std::optional<SimdLevel> simd = {});

  /// Bits per trellis step.
  unsigned kv() const { return bitsPerStep; }
  /// The step kernel in use.
  SimdLevel simdLevel() const { return level; }

  /// Allocates scratch memory for `encodeTile`.
  Workspace makeWorkspace() const;

  /// Encodes one tile: `targets` holds its 256 values in sequence order, used
  /// as given (callers round them to fp16 first) and finite. Writes the 128
  /// states of a tail-biting path to `states`.
  void encodeTile(const float *targets, uint16_t *states,
                  Workspace &workspace) const;

private:
  TcqEncoder(const TcqStateTable &table, unsigned kv, SimdLevel level);

  /// One Viterbi pass over `targets`; `overlap` < 0 means unconstrained.
  /// Backtracks the path from step 127 down to step `stopAt`.
  void runPass(const float *targets, int overlap, uint16_t *states,
               unsigned stopAt, Workspace &workspace) const;

  TcqStateTable table;
  /// The fp32 reconstructions in the step kernels' blocked order (first
  /// components, then second components).
  std::shared_ptr<const float> blocked;
  unsigned bitsPerStep;
  SimdLevel level;
};

/// Encodes a rows x cols normalized weight (row-major; rows and cols
/// multiples of 16): every tile's targets are rounded to fp16 and Viterbi
/// encoded in parallel. Returns 128 states per tile, tiles row-major. Fails
/// on a bad shape or KV, or a target that is not finite in fp16.
llvm::Expected<std::vector<uint16_t>>
encodeTcqStates(const float *weights, int64_t rows, int64_t cols, unsigned kv,
                const TcqStateTable &table,
                const TcqEncodeOptions &options = {});

/// Encodes a rows x cols normalized weight (rows and cols multiples of 32)
/// and packs the tile streams into the kernel layout (`packTcqKernelLayout`).
llvm::Expected<std::vector<uint8_t>>
encodeTcqKernelLayout(const float *weights, int64_t rows, int64_t cols,
                      unsigned kv, const TcqStateTable &table,
                      const TcqEncodeOptions &options = {});

} // namespace qpal

#endif // QPAL_QUANT_VITERBI_H
