//===- MipSolver.h - A small binding to CBC (private) -----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A solver-neutral mixed-integer program and its solution with COIN-OR CBC.
// Private to lib/Alloc: nothing outside QPalAlloc sees CBC's headers.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_ALLOC_MIPSOLVER_H
#define QPAL_LIB_ALLOC_MIPSOLVER_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qpal::alloc::detail {

/// minimize c^T x  s.t.  rowLower <= A x <= rowUpper, lower <= x <= upper,
/// x_j integer where `integer[j]`.
struct MipProblem {
  std::vector<double> objective;
  std::vector<double> lower, upper;
  std::vector<char> integer;
  /// Sparse rows: (column, coefficient) pairs.
  std::vector<std::vector<std::pair<int, double>>> rows;
  std::vector<double> rowLower, rowUpper;
  /// A feasible point to start from (empty: none).
  std::vector<double> start;

  /// Adds a column and returns its index.
  int addColumn(double cost, double lo, double hi, bool isInteger) {
    objective.push_back(cost);
    lower.push_back(lo);
    upper.push_back(hi);
    integer.push_back(isInteger);
    return static_cast<int>(objective.size()) - 1;
  }
  /// Adds a row lo <= sum <= hi.
  void addRow(std::vector<std::pair<int, double>> entries, double lo,
              double hi) {
    rows.push_back(std::move(entries));
    rowLower.push_back(lo);
    rowUpper.push_back(hi);
  }
};

struct MipOptions {
  double relativeGap = 1e-4;
  double timeLimitSeconds = 60;
  int logLevel = 0;
};

enum class MipStatus {
  /// Search finished: optimal within the gap target.
  Optimal,
  /// Stopped by the time limit with a solution.
  StoppedWithSolution,
  /// Proven infeasible.
  Infeasible,
  /// Stopped by the time limit (or trouble) without a solution.
  StoppedWithoutSolution,
};

struct MipResult {
  MipStatus status = MipStatus::StoppedWithoutSolution;
  std::vector<double> solution;
  double objective = 0;
  double bound = 0;
  int64_t nodes = 0;
  double seconds = 0;
};

/// Solves `problem` with CBC (its standalone solver's defaults: presolve,
/// cuts, heuristics). Serialized: CBC's driver keeps global state.
llvm::Expected<MipResult> solveWithCbc(const MipProblem &problem,
                                       const MipOptions &options);

} // namespace qpal::alloc::detail

#endif // QPAL_LIB_ALLOC_MIPSOLVER_H
