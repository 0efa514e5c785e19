//===- Hadamard.h - Randomized Hadamard transform (RHT) ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Incoherence processing as in quantizers.md, section 3.2. An input size n
// is either a power of two (K = 1) or K * 2^k, where K is the first of
// 172, 156, 140, 124, 116, 108, 60, 52, 36, 28, 20, 12 that divides n. With
// M = n / K and x indexed as x[a * M + b],
//
//   RHT(x)[a' * M + b'] = n^(-1/2) * sum_{a,b} Hk[a][a'] * (-1)^popcount(b &
//   b')
//                                  * x[a * M + b],
//
// i.e. the orthogonal matrix n^(-1/2) (Hk^T (x) H_M), where H_M is the
// Sylvester (natural order) Hadamard matrix and Hk a +-1 Hadamard matrix of
// order K. The fast transform runs a Walsh-Hadamard butterfly over each
// length-M block and a dense K x K product across blocks: O(n (log M + K)).
//
// Every K of the reference's list is supported. Only the K = 12 and K = 28
// matrices are the reference's exact tables (printed in quantizers.md); the
// others are built here (Paley I and II constructions, Goethals-Seidel arrays;
// see HadamardMatrices.cpp) and differ from the reference's Sloane tables.
// Any Hadamard matrix gives an orthogonal rotation, which is all the
// quantizers need, but a layer rotated with another matrix is not
// bit-compatible with the reference.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_HADAMARD_H
#define QPAL_QUANT_HADAMARD_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qpal {

/// The small orders K the reference pairs with a power of two, in the order
/// it tries them (the first that divides n wins).
llvm::ArrayRef<unsigned> referenceHadamardOrders();

/// Returns true when qpal has a Hadamard matrix of order `order` (1 is the
/// trivial matrix [1]).
bool hasHadamardMatrix(unsigned order);

/// The orders qpal has a matrix for, ascending, including 1.
std::vector<unsigned> supportedHadamardOrders();

/// Returns the +-1 Hadamard matrix of order `order`, row-major
/// (`order * order` entries, H H^T = order * I). The storage is static.
llvm::Expected<llvm::ArrayRef<int8_t>> hadamardMatrix(unsigned order);

/// The factorisation n = smallOrder * powerOfTwo that the reference uses.
struct HadamardFactors {
  /// K; 1 when n is a power of two.
  unsigned smallOrder = 1;
  /// M = n / K, a power of two.
  int64_t powerOfTwo = 1;
};

/// Factors `n` as the reference does, or explains why it cannot (n not of
/// the form K * 2^k, or no matrix of order K in qpal).
llvm::Expected<HadamardFactors> factorHadamardSize(int64_t n);

/// Unnormalized in-place Walsh-Hadamard transform in natural (Sylvester)
/// order: x <- H_m x with H_m[i][j] = (-1)^popcount(i & j). `m` must be a
/// power of two.
void fastWalshHadamard(double *x, int64_t m);
void fastWalshHadamard(float *x, int64_t m);

/// The orthogonal transform RHT of one size n (without the sign vector,
/// which callers multiply in first).
class HadamardTransform {
public:
  /// Plans the transform of size `n`; fails with a message naming `n` when
  /// the size is not supported.
  static llvm::Expected<HadamardTransform> create(int64_t n);

  /// The transform size n.
  int64_t size() const { return n; }
  /// K (1 for a power of two).
  unsigned smallOrder() const { return k; }
  /// M = n / K.
  int64_t powerOfTwo() const { return m; }

  /// x <- RHT(x). `scratch` must hold `size()` values; it is clobbered.
  void apply(double *x, double *scratch) const;
  void apply(float *x, float *scratch) const;
  /// x <- RHT^T(x) = RHT^-1(x).
  void applyTranspose(double *x, double *scratch) const;
  void applyTranspose(float *x, float *scratch) const;

  /// Allocating conveniences of the above; `x.size()` must be `size()`.
  void apply(llvm::MutableArrayRef<double> x) const;
  void applyTranspose(llvm::MutableArrayRef<double> x) const;

private:
  HadamardTransform(int64_t n, unsigned k, int64_t m,
                    llvm::ArrayRef<int8_t> matrix)
      : n(n), k(k), m(m), matrix(matrix) {}

  template <typename T> void run(T *x, T *scratch, bool transpose) const;

  int64_t n;
  unsigned k;
  int64_t m;
  llvm::ArrayRef<int8_t> matrix;
};

} // namespace qpal

#endif // QPAL_QUANT_HADAMARD_H
