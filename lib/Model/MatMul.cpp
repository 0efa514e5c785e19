//===- MatMul.cpp - float32 matrix kernels of the evaluator ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A register-blocked dot-product kernel: an MR x NR tile of Y keeps MR * NR
// vector accumulators while it walks K, then reduces them horizontally. X rows
// are blocked so that a block stays in L2 while every W row streams past it
// once. The same template is instantiated per instruction set, inside
// functions carrying a `target` attribute, and chosen with cpuid.
//
//===----------------------------------------------------------------------===//

#include "MatMul.h"

#include <algorithm>
#include <cstring>

using namespace qpal::model::detail;

#define QPAL_ALWAYS_INLINE inline __attribute__((always_inline))

namespace {

template <int W> struct VecOf {
  using type = float __attribute__((ext_vector_type(W)));
};

template <int W>
QPAL_ALWAYS_INLINE typename VecOf<W>::type loadVec(const float *p) {
  typename VecOf<W>::type v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

template <int W> QPAL_ALWAYS_INLINE float reduceVec(typename VecOf<W>::type v) {
  float sum = 0.0f;
  for (int i = 0; i < W; ++i)
    sum += v[i];
  return sum;
}

/// One MR x NR tile of Y over the full depth.
template <int W, int MR, int NR>
QPAL_ALWAYS_INLINE void tile(const float *x, int64_t ldx, const float *w,
                             int64_t ldw, float *y, int64_t ldy,
                             int64_t depth) {
  using V = typename VecOf<W>::type;
  V acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      acc[i][j] = V(0.0f);
  int64_t k = 0;
  for (; k + W <= depth; k += W) {
    V wv[NR];
    for (int j = 0; j < NR; ++j)
      wv[j] = loadVec<W>(w + j * ldw + k);
    for (int i = 0; i < MR; ++i) {
      V xv = loadVec<W>(x + i * ldx + k);
      for (int j = 0; j < NR; ++j)
        acc[i][j] += xv * wv[j];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      float sum = reduceVec<W>(acc[i][j]);
      for (int64_t kk = k; kk < depth; ++kk)
        sum += x[i * ldx + kk] * w[j * ldw + kk];
      y[i * ldy + j] = sum;
    }
}

/// Rows [0, rows) of Y for one strip of NR columns (NR may be 1 at the edge).
template <int W, int MR, int NR>
QPAL_ALWAYS_INLINE void strip(const float *x, int64_t ldx, const float *w,
                              int64_t ldw, float *y, int64_t ldy, int64_t rows,
                              int64_t depth) {
  int64_t t = 0;
  for (; t + MR <= rows; t += MR)
    tile<W, MR, NR>(x + t * ldx, ldx, w, ldw, y + t * ldy, ldy, depth);
  for (; t < rows; ++t)
    tile<W, 1, NR>(x + t * ldx, ldx, w, ldw, y + t * ldy, ldy, depth);
}

template <int W, int MR, int NR>
QPAL_ALWAYS_INLINE void matmulImpl(const float *x, int64_t ldx, const float *w,
                                   int64_t ldw, float *y, int64_t ldy,
                                   int64_t rows, int64_t cols, int64_t depth) {
  // Keep a block of X rows (about 256 KiB) hot in L2 while W streams.
  int64_t rowBlock = std::max<int64_t>(
      MR, (256 * 1024 / 4 / std::max<int64_t>(depth, 1)) / MR * MR);
  for (int64_t t0 = 0; t0 < rows; t0 += rowBlock) {
    int64_t blockRows = std::min(rowBlock, rows - t0);
    const float *xb = x + t0 * ldx;
    float *yb = y + t0 * ldy;
    int64_t n = 0;
    for (; n + NR <= cols; n += NR)
      strip<W, MR, NR>(xb, ldx, w + n * ldw, ldw, yb + n, ldy, blockRows,
                       depth);
    for (; n < cols; ++n)
      strip<W, MR, 1>(xb, ldx, w + n * ldw, ldw, yb + n, ldy, blockRows, depth);
  }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) void
matmulAvx512(const float *x, int64_t ldx, const float *w, int64_t ldw, float *y,
             int64_t ldy, int64_t rows, int64_t cols, int64_t depth) {
  matmulImpl<16, 4, 4>(x, ldx, w, ldw, y, ldy, rows, cols, depth);
}

__attribute__((target("avx2,fma"))) void
matmulAvx2(const float *x, int64_t ldx, const float *w, int64_t ldw, float *y,
           int64_t ldy, int64_t rows, int64_t cols, int64_t depth) {
  matmulImpl<8, 4, 3>(x, ldx, w, ldw, y, ldy, rows, cols, depth);
}
#endif

void matmulGeneric(const float *x, int64_t ldx, const float *w, int64_t ldw,
                   float *y, int64_t ldy, int64_t rows, int64_t cols,
                   int64_t depth) {
  matmulImpl<4, 2, 4>(x, ldx, w, ldw, y, ldy, rows, cols, depth);
}

using MatmulFn = void (*)(const float *, int64_t, const float *, int64_t,
                          float *, int64_t, int64_t, int64_t, int64_t);

struct Variant {
  MatmulFn fn;
  const char *name;
};

Variant selectVariant() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return {matmulAvx512, "avx512"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {matmulAvx2, "avx2"};
#endif
  return {matmulGeneric, "generic"};
}

const Variant &getVariant() {
  static const Variant variant = selectVariant();
  return variant;
}

} // namespace

void qpal::model::detail::matmulTransposed(const float *x, int64_t ldx,
                                           const float *w, int64_t ldw,
                                           float *y, int64_t ldy, int64_t rows,
                                           int64_t cols, int64_t depth) {
  if (rows <= 0 || cols <= 0)
    return;
  getVariant().fn(x, ldx, w, ldw, y, ldy, rows, cols, depth);
}

const char *qpal::model::detail::getMatmulVariantName() {
  return getVariant().name;
}
