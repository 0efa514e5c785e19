//===- Viterbi.cpp - Tail-biting Viterbi encoder for TCQ ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Bit-exactness across the scalar, AVX2 and AVX-512 kernels rests on every
// kernel evaluating the same fp32 expression per state,
//
//   cost(s) = ((r0[s] - x0) * (r0[s] - x0) + (r1[s] - x1) * (r1[s] - x1))
//             + mins[s >> KV],
//
// with separate roundings (this file is built with -ffp-contract=off and the
// kernels never use FMA), and on min being exact. Ties do not need index
// tracking in the kernels: backtracking recomputes the candidates in the
// same order and takes the first one that equals the stored minimum.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Viterbi.h"

#include "AlignedBuffer.h"
#include "Diagnostics.h"
#include "Parallel.h"
#include "qpal/Quant/Half.h"
#include "qpal/Quant/TileLayout.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#define QPAL_VITERBI_X86 1
#include <immintrin.h>
#else
#define QPAL_VITERBI_X86 0
#endif

using namespace qpal;

namespace {

/// A Viterbi step: next[g] = min over d of cost(d * 2^(16-KV) + g) for every
/// group g, where cost reads the previous step's group minima `mins`.
using StepFn = void (*)(const float *r0, const float *r1, float x0, float x1,
                        const float *mins, float *next);

/// Extra floats after each row of minima, so that the expanding vector loads
/// of small KV stay inside the row; keeps rows 64-byte aligned.
constexpr uint32_t kRowPad = 16;
constexpr float kInfinity = std::numeric_limits<float>::infinity();

/// The cost of state `s` at one step (the scalar definition every kernel
/// reproduces).
inline float stateCost(const float *r0, const float *r1, float x0, float x1,
                       const float *mins, uint32_t s, unsigned kv) {
  float a = r0[s] - x0;
  float b = r1[s] - x1;
  float e = a * a + b * b;
  return e + mins[s >> kv];
}

//===----------------------------------------------------------------------===//
// Step kernels
//===----------------------------------------------------------------------===//
//
// The kernels read the reconstructions in a blocked order: for each block of
// kBlock consecutive groups and each digit d, the kBlock states
// d * 2^(16-KV) + block * kBlock + lane are contiguous. A kernel keeps one
// accumulator per lane of a block in registers and streams through the
// block's 2^KV rows sequentially (the natural order would stride by
// 2^(16-KV) floats, which thrashes the L1 sets).

/// Groups per block: four AVX-512 or eight AVX2 vectors.
constexpr uint32_t kBlock = 64;

/// The position of state `s` in the blocked order for KV.
inline uint32_t blockedIndex(uint32_t s, unsigned kv) {
  const uint32_t groups = 1u << (16 - kv), digits = 1u << kv;
  uint32_t d = s / groups, g = s % groups;
  return (g / kBlock) * digits * kBlock + d * kBlock + g % kBlock;
}

template <unsigned KV>
void stepScalar(const float *r0, const float *r1, float x0, float x1,
                const float *mins, float *next) {
  constexpr uint32_t groups = 1u << (16 - KV), digits = 1u << KV;
  for (uint32_t block = 0; block < groups / kBlock; ++block) {
    float acc[kBlock];
    for (uint32_t lane = 0; lane < kBlock; ++lane)
      acc[lane] = kInfinity;
    const float *p0 = r0 + block * digits * kBlock;
    const float *p1 = r1 + block * digits * kBlock;
    for (uint32_t d = 0; d < digits; ++d) {
      const uint32_t s = d * groups + block * kBlock;
      for (uint32_t lane = 0; lane < kBlock; ++lane) {
        float a = p0[d * kBlock + lane] - x0;
        float b = p1[d * kBlock + lane] - x1;
        float e = a * a + b * b;
        float cost = e + mins[(s + lane) >> KV];
        acc[lane] = cost < acc[lane] ? cost : acc[lane];
      }
    }
    for (uint32_t lane = 0; lane < kBlock; ++lane)
      next[block * kBlock + lane] = acc[lane];
  }
}

#if QPAL_VITERBI_X86

#define QPAL_AVX2 __attribute__((target("avx2")))
#define QPAL_AVX512 __attribute__((target("avx512f")))

template <unsigned KV>
QPAL_AVX2 void stepAvx2(const float *r0, const float *r1, float x0, float x1,
                        const float *mins, float *next) {
  constexpr uint32_t groups = 1u << (16 - KV), digits = 1u << KV;
  constexpr uint32_t width = 8, vectors = kBlock / width;
  const __m256 vx0 = _mm256_set1_ps(x0), vx1 = _mm256_set1_ps(x1);
  // Lane i of a vector starting at state s reads mins[(s >> KV) + (i >> KV)].
  const __m256i expand =
      _mm256_srli_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), KV);
  for (uint32_t block = 0; block < groups / kBlock; ++block) {
    __m256 acc[vectors];
    for (uint32_t v = 0; v < vectors; ++v)
      acc[v] = _mm256_set1_ps(kInfinity);
    const float *p0 = r0 + block * digits * kBlock;
    const float *p1 = r1 + block * digits * kBlock;
    for (uint32_t d = 0; d < digits; ++d, p0 += kBlock, p1 += kBlock) {
      const uint32_t s = d * groups + block * kBlock;
      for (uint32_t v = 0; v < vectors; ++v) {
        __m256 a = _mm256_sub_ps(_mm256_load_ps(p0 + v * width), vx0);
        __m256 b = _mm256_sub_ps(_mm256_load_ps(p1 + v * width), vx1);
        __m256 e = _mm256_add_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b));
        const uint32_t first = s + v * width;
        __m256 m;
        if constexpr (KV >= 3)
          m = _mm256_broadcast_ss(mins + (first >> KV));
        else
          m = _mm256_permutevar8x32_ps(_mm256_loadu_ps(mins + (first >> KV)),
                                       expand);
        acc[v] = _mm256_min_ps(acc[v], _mm256_add_ps(e, m));
      }
    }
    for (uint32_t v = 0; v < vectors; ++v)
      _mm256_store_ps(next + block * kBlock + v * width, acc[v]);
  }
}

template <unsigned KV>
QPAL_AVX512 void stepAvx512(const float *r0, const float *r1, float x0,
                            float x1, const float *mins, float *next) {
  constexpr uint32_t groups = 1u << (16 - KV), digits = 1u << KV;
  constexpr uint32_t width = 16, vectors = kBlock / width;
  const __m512 vx0 = _mm512_set1_ps(x0), vx1 = _mm512_set1_ps(x1);
  const __m512i expand = _mm512_srli_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      KV);
  for (uint32_t block = 0; block < groups / kBlock; ++block) {
    __m512 acc[vectors];
    for (uint32_t v = 0; v < vectors; ++v)
      acc[v] = _mm512_set1_ps(kInfinity);
    const float *p0 = r0 + block * digits * kBlock;
    const float *p1 = r1 + block * digits * kBlock;
    for (uint32_t d = 0; d < digits; ++d, p0 += kBlock, p1 += kBlock) {
      const uint32_t s = d * groups + block * kBlock;
      for (uint32_t v = 0; v < vectors; ++v) {
        __m512 a = _mm512_sub_ps(_mm512_load_ps(p0 + v * width), vx0);
        __m512 b = _mm512_sub_ps(_mm512_load_ps(p1 + v * width), vx1);
        __m512 e = _mm512_add_ps(_mm512_mul_ps(a, a), _mm512_mul_ps(b, b));
        const uint32_t first = s + v * width;
        __m512 m;
        if constexpr (KV >= 4)
          m = _mm512_set1_ps(mins[first >> KV]);
        else
          m = _mm512_permutexvar_ps(expand,
                                    _mm512_loadu_ps(mins + (first >> KV)));
        acc[v] = _mm512_min_ps(acc[v], _mm512_add_ps(e, m));
      }
    }
    for (uint32_t v = 0; v < vectors; ++v)
      _mm512_store_ps(next + block * kBlock + v * width, acc[v]);
  }
}

#endif // QPAL_VITERBI_X86

#define QPAL_SELECT_KV(kernel)                                                 \
  switch (kv) {                                                                \
  case 2:                                                                      \
    return kernel<2>;                                                          \
  case 3:                                                                      \
    return kernel<3>;                                                          \
  case 4:                                                                      \
    return kernel<4>;                                                          \
  case 5:                                                                      \
    return kernel<5>;                                                          \
  case 6:                                                                      \
    return kernel<6>;                                                          \
  case 7:                                                                      \
    return kernel<7>;                                                          \
  case 8:                                                                      \
    return kernel<8>;                                                          \
  case 9:                                                                      \
    return kernel<9>;                                                          \
  case 10:                                                                     \
    return kernel<10>;                                                         \
  default:                                                                     \
    return nullptr;                                                            \
  }

StepFn selectStep(SimdLevel level, unsigned kv) {
  switch (level) {
  case SimdLevel::Scalar:
    QPAL_SELECT_KV(stepScalar)
#if QPAL_VITERBI_X86
  case SimdLevel::Avx2:
    QPAL_SELECT_KV(stepAvx2)
  case SimdLevel::Avx512:
    QPAL_SELECT_KV(stepAvx512)
#else
  case SimdLevel::Avx2:
  case SimdLevel::Avx512:
    return nullptr;
#endif
  }
  return nullptr;
}

#undef QPAL_SELECT_KV

} // namespace

//===----------------------------------------------------------------------===//
// SIMD levels
//===----------------------------------------------------------------------===//

bool qpal::isSimdLevelSupported(SimdLevel level) {
  switch (level) {
  case SimdLevel::Scalar:
    return true;
#if QPAL_VITERBI_X86
  case SimdLevel::Avx2:
    return __builtin_cpu_supports("avx2");
  case SimdLevel::Avx512:
    return __builtin_cpu_supports("avx512f");
#else
  case SimdLevel::Avx2:
  case SimdLevel::Avx512:
    return false;
#endif
  }
  return false;
}

SimdLevel qpal::detectSimdLevel() {
  if (isSimdLevelSupported(SimdLevel::Avx512))
    return SimdLevel::Avx512;
  if (isSimdLevelSupported(SimdLevel::Avx2))
    return SimdLevel::Avx2;
  return SimdLevel::Scalar;
}

const char *qpal::stringifySimdLevel(SimdLevel level) {
  switch (level) {
  case SimdLevel::Scalar:
    return "scalar";
  case SimdLevel::Avx2:
    return "avx2";
  case SimdLevel::Avx512:
    return "avx512";
  }
  return "unknown";
}

//===----------------------------------------------------------------------===//
// Encoder
//===----------------------------------------------------------------------===//

struct TcqEncoder::Workspace::Impl {
  /// Group minima before steps 0..128: row k holds M_k, the minimum over
  /// the predecessors of each group at step k (row 0 is the start mask).
  detail::AlignedFloats history;
  uint32_t stride = 0;
  float rotated[kTileWeights];
  uint16_t scratch[kTcqStepsPerTile];
};

TcqEncoder::Workspace::Workspace(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
TcqEncoder::Workspace::~Workspace() = default;
TcqEncoder::Workspace::Workspace(Workspace &&) noexcept = default;
TcqEncoder::Workspace &
TcqEncoder::Workspace::operator=(Workspace &&) noexcept = default;

TcqEncoder::TcqEncoder(const TcqStateTable &table, unsigned kv, SimdLevel level)
    : table(table), bitsPerStep(kv), level(level) {
  float *raw = static_cast<float *>(
      std::aligned_alloc(64, 2 * kTcqStates * sizeof(float)));
  const float *first = table.first(CodebookPrecision::Fp32);
  const float *second = table.second(CodebookPrecision::Fp32);
  for (uint32_t s = 0; s < kTcqStates; ++s) {
    raw[blockedIndex(s, kv)] = first[s];
    raw[kTcqStates + blockedIndex(s, kv)] = second[s];
  }
  blocked = std::shared_ptr<const float>(
      raw, [](const float *p) { std::free(const_cast<float *>(p)); });
}

llvm::Expected<TcqEncoder> TcqEncoder::create(const TcqStateTable &table,
                                              unsigned kv,
                                              std::optional<SimdLevel> simd) {
  if (kv < 2 || kv > 10)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("TCQ encoder: expects KV in [2, 10], got {0}", kv));
  SimdLevel level = simd.value_or(detectSimdLevel());
  if (!isSimdLevelSupported(level))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("TCQ encoder: this CPU does not support the {0} kernel",
                      stringifySimdLevel(level)));
  return TcqEncoder(table, kv, level);
}

TcqEncoder::Workspace TcqEncoder::makeWorkspace() const {
  auto impl = std::make_unique<Workspace::Impl>();
  impl->stride = (1u << (16 - bitsPerStep)) + kRowPad;
  impl->history = detail::AlignedFloats(
      static_cast<size_t>(kTcqStepsPerTile + 1) * impl->stride);
  return Workspace(std::move(impl));
}

void TcqEncoder::runPass(const float *targets, int overlap, uint16_t *states,
                         unsigned stopAt, Workspace &workspace) const {
  const unsigned kv = bitsPerStep;
  const uint32_t groups = 1u << (16 - kv), digits = 1u << kv;
  const uint32_t stride = workspace.impl->stride;
  float *history = workspace.impl->history.data();
  const float *r0 = table.first(CodebookPrecision::Fp32);
  const float *r1 = table.second(CodebookPrecision::Fp32);
  StepFn step = selectStep(level, kv);
  const float *blocked0 = blocked.get();
  const float *blocked1 = blocked0 + kTcqStates;

  // Start mask: pass 1 allows every state (cost_0 = e), pass 2 only the
  // group `overlap`; padding stays finite for the expanding loads.
  for (uint32_t g = 0; g < stride; ++g)
    history[g] =
        overlap < 0 || g == static_cast<uint32_t>(overlap) || g >= groups
            ? 0.0f
            : kInfinity;
  for (unsigned k = 0; k < kTcqStepsPerTile; ++k) {
    float *next = history + (k + 1) * stride;
    step(blocked0, blocked1, targets[2 * k], targets[2 * k + 1],
         history + k * stride, next);
    std::fill(next + groups, next + stride, 0.0f);
  }

  auto costAt = [&](uint32_t s, unsigned k) {
    return stateCost(r0, r1, targets[2 * k], targets[2 * k + 1],
                     history + k * stride, s, kv);
  };
  auto firstDigitWith = [&](uint32_t group, unsigned k, float value) {
    for (uint32_t d = 0; d < digits; ++d)
      if (costAt(d * groups + group, k) == value)
        return d * groups + group;
    llvm_unreachable("a group minimum must be attained by some state");
  };

  // Final state: the lowest state of minimal cost at step 127, among all
  // states (pass 1) or those with s mod 2^(16-KV) == overlap (pass 2).
  const unsigned last = kTcqStepsPerTile - 1;
  const float *finalMins = history + kTcqStepsPerTile * stride;
  uint32_t state;
  if (overlap >= 0) {
    state = firstDigitWith(static_cast<uint32_t>(overlap), last,
                           finalMins[overlap]);
  } else {
    float best = kInfinity;
    for (uint32_t g = 0; g < groups; ++g)
      best = finalMins[g] < best ? finalMins[g] : best;
    state = kTcqStates;
    for (uint32_t d = 0; d < digits && state == kTcqStates; ++d)
      for (uint32_t g = 0; g < groups; ++g)
        if (finalMins[g] == best && costAt(d * groups + g, last) == best) {
          state = d * groups + g;
          break;
        }
  }
  states[last] = static_cast<uint16_t>(state);

  // Backtrack: the predecessor of s_k is the first candidate whose cost at
  // step k - 1 equals the minimum stored for s_k's group.
  for (unsigned k = last; k > stopAt; --k) {
    uint32_t group = states[k] >> kv;
    float value = history[k * stride + group];
    states[k - 1] = static_cast<uint16_t>(firstDigitWith(group, k - 1, value));
  }
}

void TcqEncoder::encodeTile(const float *targets, uint16_t *states,
                            Workspace &workspace) const {
  // Pass 1 on the sequence rotated by 128 values: x'_t = x_{(t - 128) mod 256}.
  float *rotated = workspace.impl->rotated;
  for (unsigned t = 0; t < kTileWeights; ++t)
    rotated[t] = targets[(t + kTileWeights / 2) % kTileWeights];
  uint16_t *scratch = workspace.impl->scratch;
  const unsigned middle = kTcqStepsPerTile / 2;
  runPass(rotated, /*overlap=*/-1, scratch, /*stopAt=*/middle, workspace);
  int overlap = scratch[middle] >> bitsPerStep;
  // Pass 2 on the original sequence, forced to start and end on `overlap`.
  runPass(targets, overlap, states, /*stopAt=*/0, workspace);
}

//===----------------------------------------------------------------------===//
// Matrices
//===----------------------------------------------------------------------===//

llvm::Expected<std::vector<uint16_t>>
qpal::encodeTcqStates(const float *weights, int64_t rows, int64_t cols,
                      unsigned kv, const TcqStateTable &table,
                      const TcqEncodeOptions &options) {
  if (auto err = checkTcqShape("TCQ encoder", rows, cols, kv, kTileDim))
    return std::move(err);
  if (!weights)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "TCQ encoder: null weight pointer");
  // Targets are rounded to fp16; magnitudes from 65520 up become infinite.
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!(std::fabs(weights[i]) < 65520.0f))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("TCQ encoder: the normalized weight at ({0}, {1}) is "
                        "{2}, which is not finite in fp16",
                        i / cols, i % cols, detail::formatValue(weights[i])));
  auto encoder = TcqEncoder::create(table, kv, options.simd);
  if (!encoder)
    return encoder.takeError();

  const int64_t tileCols = cols / kTileDim;
  const size_t tiles = static_cast<size_t>((rows / kTileDim) * tileCols);
  std::vector<uint16_t> states(tiles * kTcqStepsPerTile);
  unsigned workers = detail::resolveThreads(options.threads, tiles);
  std::vector<TcqEncoder::Workspace> workspaces;
  workspaces.reserve(workers);
  for (unsigned i = 0; i < workers; ++i)
    workspaces.push_back(encoder->makeWorkspace());

  detail::parallelFor(tiles, workers, [&](unsigned worker, size_t tile) {
    const int64_t tileRow = static_cast<int64_t>(tile) / tileCols;
    const int64_t tileCol = static_cast<int64_t>(tile) % tileCols;
    float targets[kTileWeights];
    for (unsigned t = 0; t < kTileWeights; ++t) {
      TilePosition pos = tileSequencePosition(t);
      targets[t] = roundToHalf(weights[(tileRow * kTileDim + pos.row) * cols +
                                       tileCol * kTileDim + pos.col]);
    }
    encoder->encodeTile(targets, states.data() + tile * kTcqStepsPerTile,
                        workspaces[worker]);
  });
  return states;
}

llvm::Expected<std::vector<uint8_t>>
qpal::encodeTcqKernelLayout(const float *weights, int64_t rows, int64_t cols,
                            unsigned kv, const TcqStateTable &table,
                            const TcqEncodeOptions &options) {
  if (auto err = checkTcqShape("TCQ encoder", rows, cols, kv, kSupertileDim))
    return std::move(err);
  auto states = encodeTcqStates(weights, rows, cols, kv, table, options);
  if (!states)
    return states.takeError();
  auto streams = packTcqStreams(*states, kv);
  if (!streams)
    return streams.takeError();
  return packTcqKernelLayout(*streams, rows, cols, kv);
}
