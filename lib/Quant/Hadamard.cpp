//===- Hadamard.cpp - Randomized Hadamard transform (RHT) -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Hadamard.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <cassert>
#include <cmath>

using namespace qpal;

static const unsigned kReferenceOrders[] = {172, 156, 140, 124, 116, 108,
                                            60,  52,  36,  28,  20,  12};

llvm::ArrayRef<unsigned> qpal::referenceHadamardOrders() {
  return kReferenceOrders;
}

std::vector<unsigned> qpal::supportedHadamardOrders() {
  std::vector<unsigned> orders = {1};
  for (unsigned order : llvm::reverse(kReferenceOrders))
    if (hasHadamardMatrix(order))
      orders.push_back(order);
  return orders;
}

static std::string supportedOrdersText() {
  std::vector<std::string> parts;
  for (unsigned order : supportedHadamardOrders())
    if (order != 1)
      parts.push_back(std::to_string(order));
  return llvm::join(parts, ", ");
}

llvm::Expected<HadamardFactors> qpal::factorHadamardSize(int64_t n) {
  if (n <= 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("unsupported Hadamard size n = {0}: expects a positive "
                      "size",
                      n));
  HadamardFactors factors;
  for (unsigned order : kReferenceOrders) {
    if (n % order == 0) {
      factors.smallOrder = order;
      break;
    }
  }
  factors.powerOfTwo = n / factors.smallOrder;
  if (!llvm::isPowerOf2_64(static_cast<uint64_t>(factors.powerOfTwo))) {
    if (factors.smallOrder == 1)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("unsupported Hadamard size n = {0}: expects a power "
                        "of two or K * 2^k with K in {{{1}}",
                        n, supportedOrdersText()));
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("unsupported Hadamard size n = {0}: the reference pairs "
                      "it with K = {1}, but n / {1} = {2} is not a power of "
                      "two",
                      n, factors.smallOrder, n / factors.smallOrder));
  }
  if (!hasHadamardMatrix(factors.smallOrder))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("unsupported Hadamard size n = {0} = {1} * {2}: qpal has "
                      "no Hadamard matrix of order {1} (supported orders: {3})",
                      n, factors.smallOrder, factors.powerOfTwo,
                      supportedOrdersText()));
  return factors;
}

template <typename T> static void walshHadamard(T *x, int64_t m) {
  for (int64_t half = 1; half < m; half *= 2)
    for (int64_t block = 0; block < m; block += 2 * half)
      for (int64_t i = block; i < block + half; ++i) {
        T u = x[i], v = x[i + half];
        x[i] = u + v;
        x[i + half] = u - v;
      }
}

void qpal::fastWalshHadamard(double *x, int64_t m) { walshHadamard(x, m); }
void qpal::fastWalshHadamard(float *x, int64_t m) { walshHadamard(x, m); }

llvm::Expected<HadamardTransform> HadamardTransform::create(int64_t n) {
  auto factors = factorHadamardSize(n);
  if (!factors)
    return factors.takeError();
  llvm::ArrayRef<int8_t> matrix;
  if (factors->smallOrder != 1) {
    auto stored = hadamardMatrix(factors->smallOrder);
    if (!stored)
      return stored.takeError();
    matrix = *stored;
  }
  return HadamardTransform(n, factors->smallOrder, factors->powerOfTwo, matrix);
}

template <typename T>
void HadamardTransform::run(T *x, T *scratch, bool transpose) const {
  // The two Kronecker factors act on different index digits, so they
  // commute: butterflies over b within each block, then Hk across blocks.
  for (unsigned a = 0; a < k; ++a)
    walshHadamard(x + a * m, m);
  if (k > 1) {
    // Forward: y[a'] = sum_a Hk[a][a'] z[a]; transpose: y[a] = sum_a' Hk[a][a']
    // z[a'].
    for (unsigned out = 0; out < k; ++out) {
      T *y = scratch + out * m;
      std::fill(y, y + m, T(0));
      for (unsigned in = 0; in < k; ++in) {
        int8_t sign = transpose ? matrix[out * k + in] : matrix[in * k + out];
        const T *z = x + in * m;
        if (sign > 0)
          for (int64_t b = 0; b < m; ++b)
            y[b] += z[b];
        else
          for (int64_t b = 0; b < m; ++b)
            y[b] -= z[b];
      }
    }
    std::copy(scratch, scratch + n, x);
  }
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(n)));
  for (int64_t i = 0; i < n; ++i)
    x[i] *= scale;
}

void HadamardTransform::apply(double *x, double *scratch) const {
  run(x, scratch, /*transpose=*/false);
}
void HadamardTransform::apply(float *x, float *scratch) const {
  run(x, scratch, /*transpose=*/false);
}
void HadamardTransform::applyTranspose(double *x, double *scratch) const {
  run(x, scratch, /*transpose=*/true);
}
void HadamardTransform::applyTranspose(float *x, float *scratch) const {
  run(x, scratch, /*transpose=*/true);
}

void HadamardTransform::apply(llvm::MutableArrayRef<double> x) const {
  assert(static_cast<int64_t>(x.size()) == n && "transform size mismatch");
  std::vector<double> scratch(n);
  apply(x.data(), scratch.data());
}
void HadamardTransform::applyTranspose(llvm::MutableArrayRef<double> x) const {
  assert(static_cast<int64_t>(x.size()) == n && "transform size mismatch");
  std::vector<double> scratch(n);
  applyTranspose(x.data(), scratch.data());
}
