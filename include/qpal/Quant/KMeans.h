//===- KMeans.h - Lloyd k-means for Gaussian codebooks ----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Trains codebooks like the reference's shipped ones (quantizers.md, sections
// 4.2 and 6.1): k-means (Lloyd's algorithm) of N(0, I) samples. Unlike the
// reference, which runs unseeded scipy/sklearn/flash1dkmeans, everything here
// is seeded and deterministic for a given seed and thread count, so a
// retrained codebook is reproducible but not the shipped file. Use the
// shipped codebooks for compatibility (quantizers.md, section 9).
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_QUANT_KMEANS_H
#define QPAL_QUANT_KMEANS_H

#include "qpal/Quant/Codebooks.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace qpal {

/// Options of `lloydKMeans` and `trainGaussianCodebook`.
struct KMeansOptions {
  /// Maximum Lloyd iterations.
  unsigned iterations = 100;
  /// Stop when the mean squared error improves by less than this fraction.
  double tolerance = 1e-6;
  /// Seed of the k-means++ initialisation (and of the samples for
  /// `trainGaussianCodebook`).
  uint64_t seed = 0;
  /// Worker threads for the assignment step; 0 uses all hardware threads.
  unsigned threads = 0;
};

/// The result of a k-means run.
struct KMeansResult {
  /// k centroids of `dim` values, row-major. For dim 1 they are sorted.
  std::vector<float> centroids;
  /// Mean squared distance of the points to their centroids (float64).
  double meanSquaredError = 0;
  /// Lloyd iterations performed.
  unsigned iterations = 0;
};

/// Runs Lloyd's algorithm on `points` (count x dim, row-major) with `k`
/// centroids, initialised by k-means++. An empty cluster is re-seeded with
/// the point farthest from its centroid. Fails when there are fewer points
/// than centroids or a point is not finite.
llvm::Expected<KMeansResult> lloydKMeans(llvm::ArrayRef<float> points,
                                         unsigned dim, unsigned k,
                                         const KMeansOptions &options = {});

/// Trains a codebook of 2^bits codewords of dimension `dim` on `samples`
/// i.i.d. N(0, I) vectors drawn from SplitMix64(`options.seed`). When
/// `targetStd` is set, the codebook is rescaled so that the population
/// standard deviation of all its values equals it, as the reference does for
/// TCQ tluts (sqrt(15/16)).
llvm::Expected<Codebook>
trainGaussianCodebook(unsigned bits, unsigned dim, uint64_t samples,
                      const KMeansOptions &options = {},
                      std::optional<double> targetStd = std::nullopt);

} // namespace qpal

#endif // QPAL_QUANT_KMEANS_H
