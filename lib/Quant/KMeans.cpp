//===- KMeans.cpp - Lloyd k-means for Gaussian codebooks ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/KMeans.h"

#include "Diagnostics.h"
#include "Parallel.h"
#include "qpal/Quant/LutQuantizers.h"
#include "qpal/Quant/Random.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace qpal;

using detail::makeError;

namespace {
/// Squared distance between two dim-vectors, in float64.
inline double distance2(const float *a, const double *b, unsigned dim) {
  double sum = 0;
  for (unsigned c = 0; c < dim; ++c) {
    double diff = static_cast<double>(a[c]) - b[c];
    sum += diff * diff;
  }
  return sum;
}

/// k-means++: the first centroid uniformly, each next one with probability
/// proportional to the squared distance to the nearest chosen centroid.
std::vector<double> initialize(llvm::ArrayRef<float> points, unsigned dim,
                               unsigned k, SplitMix64 &rng) {
  const size_t count = points.size() / dim;
  std::vector<double> centroids;
  centroids.reserve(static_cast<size_t>(k) * dim);
  std::vector<double> nearest(count, std::numeric_limits<double>::infinity());
  size_t chosen =
      std::min(count - 1, static_cast<size_t>(rng.uniform() * count));
  for (unsigned j = 0; j < k; ++j) {
    for (unsigned c = 0; c < dim; ++c)
      centroids.push_back(points[chosen * dim + c]);
    double total = 0;
    for (size_t i = 0; i < count; ++i) {
      nearest[i] = std::min(
          nearest[i], distance2(&points[i * dim], &centroids[j * dim], dim));
      total += nearest[i];
    }
    if (j + 1 == k)
      break;
    double pick = rng.uniform() * total, running = 0;
    chosen = count - 1;
    for (size_t i = 0; i < count; ++i) {
      running += nearest[i];
      if (running > pick) {
        chosen = i;
        break;
      }
    }
  }
  return centroids;
}
} // namespace

llvm::Expected<KMeansResult> qpal::lloydKMeans(llvm::ArrayRef<float> points,
                                               unsigned dim, unsigned k,
                                               const KMeansOptions &options) {
  if (dim == 0 || points.size() % dim != 0)
    return makeError(llvm::formatv(
        "k-means: expects points of dimension {0}, got {1} values", dim,
        points.size()));
  const size_t count = points.size() / dim;
  if (k == 0 || count < k)
    return makeError(llvm::formatv(
        "k-means: expects at least k = {0} points, got {1}", k, count));
  for (size_t i = 0; i < points.size(); ++i)
    if (!std::isfinite(points[i]))
      return makeError(
          llvm::formatv("k-means: point value {0} is not finite", i));

  SplitMix64 rng(options.seed);
  std::vector<double> centroids = initialize(points, dim, k, rng);
  std::vector<uint32_t> assignment(count);
  std::vector<double> distance(count);
  const unsigned workers = detail::resolveThreads(options.threads, count);
  const size_t blocks = std::min<size_t>(count, 64 * workers);

  KMeansResult result;
  double previous = std::numeric_limits<double>::infinity();
  for (unsigned iteration = 0; iteration < options.iterations; ++iteration) {
    // Assignment step (ties to the lowest centroid index). In one and two
    // dimensions the exact sorted search of LutQuantizers.h replaces the
    // O(k) scan; it compares against the float32-rounded centroids.
    std::vector<float> rounded(centroids.begin(), centroids.end());
    std::vector<double> reference(rounded.begin(), rounded.end());
    std::optional<NearestCodeword> search;
    if (dim <= 2) {
      auto created = NearestCodeword::create(rounded, dim);
      if (!created)
        return created.takeError();
      search = std::move(*created);
    }
    detail::parallelFor(blocks, workers, [&](unsigned, size_t block) {
      size_t begin = block * count / blocks, end = (block + 1) * count / blocks;
      for (size_t i = begin; i < end; ++i) {
        const float *point = &points[i * dim];
        if (search) {
          double target[2] = {point[0], dim == 2 ? point[1] : 0.0};
          assignment[i] = search->find(target);
          distance[i] = distance2(point, &reference[assignment[i] * dim], dim);
          continue;
        }
        double best = std::numeric_limits<double>::infinity();
        uint32_t bestIndex = 0;
        for (unsigned j = 0; j < k; ++j) {
          double d = distance2(point, &reference[j * dim], dim);
          if (d < best) {
            best = d;
            bestIndex = j;
          }
        }
        assignment[i] = bestIndex;
        distance[i] = best;
      }
    });
    double mse = std::accumulate(distance.begin(), distance.end(), 0.0) /
                 static_cast<double>(count * dim);
    result.iterations = iteration + 1;
    result.meanSquaredError = mse;

    // Update step, in point order so the sums are deterministic.
    std::vector<double> sums(static_cast<size_t>(k) * dim, 0.0);
    std::vector<size_t> members(k, 0);
    for (size_t i = 0; i < count; ++i) {
      ++members[assignment[i]];
      for (unsigned c = 0; c < dim; ++c)
        sums[assignment[i] * dim + c] += points[i * dim + c];
    }
    for (unsigned j = 0; j < k; ++j) {
      if (members[j] == 0) {
        // Re-seed an empty cluster with the worst-served point.
        size_t worst = static_cast<size_t>(
            std::max_element(distance.begin(), distance.end()) -
            distance.begin());
        for (unsigned c = 0; c < dim; ++c)
          centroids[j * dim + c] = points[worst * dim + c];
        distance[worst] = 0;
        continue;
      }
      for (unsigned c = 0; c < dim; ++c)
        centroids[j * dim + c] = sums[j * dim + c] / members[j];
    }
    if (previous - mse <= options.tolerance * mse)
      break;
    previous = mse;
  }

  // Sort 1-D codebooks, as the shipped scalar codebooks are.
  std::vector<uint32_t> order(k);
  std::iota(order.begin(), order.end(), 0u);
  if (dim == 1)
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return centroids[a] < centroids[b] ||
             (centroids[a] == centroids[b] && a < b);
    });
  for (uint32_t j : order)
    for (unsigned c = 0; c < dim; ++c)
      result.centroids.push_back(static_cast<float>(centroids[j * dim + c]));
  return result;
}

llvm::Expected<Codebook>
qpal::trainGaussianCodebook(unsigned bits, unsigned dim, uint64_t samples,
                            const KMeansOptions &options,
                            std::optional<double> targetStd) {
  if (bits == 0 || bits > 16 || dim == 0 || dim > 8)
    return makeError(llvm::formatv(
        "k-means: expects 1..16 index bits and dimension 1..8, got {0} bits "
        "and dimension {1}",
        bits, dim));
  if (targetStd && !(*targetStd > 0))
    return makeError(llvm::formatv(
        "k-means: expects a positive target standard deviation, got {0}",
        *targetStd));
  std::vector<float> points(static_cast<size_t>(samples) * dim);
  fillGaussian(points.data(), static_cast<int64_t>(points.size()),
               deriveSeed(options.seed, 1));
  auto result = lloydKMeans(points, dim, 1u << bits, options);
  if (!result)
    return result.takeError();
  std::vector<float> values = std::move(result->centroids);
  if (targetStd) {
    double sum = 0, sum2 = 0;
    for (float v : values) {
      sum += v;
      sum2 += static_cast<double>(v) * v;
    }
    double mean = sum / values.size();
    double stddev = std::sqrt(sum2 / values.size() - mean * mean);
    for (float &v : values)
      v = static_cast<float>(v / stddev * *targetStd);
  }
  return Codebook(bits, dim, std::move(values));
}
