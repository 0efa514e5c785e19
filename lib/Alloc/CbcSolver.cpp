//===- CbcSolver.cpp - Solve a MipProblem with COIN-OR CBC ----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "MipSolver.h"

#include "llvm/Support/FormatVariadic.h"

#include "CbcModel.hpp"
#include "CbcSolver.hpp"
#include "CoinPackedMatrix.hpp"
#include "OsiClpSolverInterface.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

using namespace qpal::alloc::detail;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// CbcMain1's progress callback; qpal does not intervene.
static int cbcCallback(CbcModel *, int) { return 0; }

llvm::Expected<MipResult>
qpal::alloc::detail::solveWithCbc(const MipProblem &problem,
                                  const MipOptions &options) {
  // CbcMain0/CbcMain1 use process-wide state.
  static std::mutex cbcMutex;
  std::lock_guard<std::mutex> lock(cbcMutex);

  int numColumns = static_cast<int>(problem.objective.size());
  int numRows = static_cast<int>(problem.rows.size());
  std::vector<int> rowStarts{0}, indices;
  std::vector<double> elements;
  for (const auto &row : problem.rows) {
    for (auto [column, value] : row) {
      indices.push_back(column);
      elements.push_back(value);
    }
    rowStarts.push_back(static_cast<int>(indices.size()));
  }
  std::vector<int> lengths(numRows);
  for (int row = 0; row < numRows; ++row)
    lengths[row] = rowStarts[row + 1] - rowStarts[row];
  CoinPackedMatrix matrix(/*colordered=*/false, numColumns, numRows,
                          static_cast<CoinBigIndex>(elements.size()),
                          elements.data(), indices.data(), rowStarts.data(),
                          lengths.data());

  OsiClpSolverInterface solver;
  solver.loadProblem(matrix, problem.lower.data(), problem.upper.data(),
                     problem.objective.data(), problem.rowLower.data(),
                     problem.rowUpper.data());
  for (int column = 0; column < numColumns; ++column) {
    if (problem.integer[column])
      solver.setInteger(column);
    solver.setColName(column, "x" + std::to_string(column));
  }
  solver.messageHandler()->setLogLevel(0);

  // The LP relaxation's optimum: a lower bound that does not depend on how
  // CBC's search ended (see the bound below).
  double lpBound = -std::numeric_limits<double>::infinity();
  {
    OsiClpSolverInterface relaxation(solver);
    relaxation.messageHandler()->setLogLevel(0);
    relaxation.initialSolve();
    if (relaxation.isProvenPrimalInfeasible()) {
      MipResult result;
      result.status = MipStatus::Infeasible;
      return result;
    }
    if (relaxation.isProvenOptimal())
      lpBound = relaxation.getObjValue();
  }

  CbcModel model(solver);
  CbcSolverUsefulData data;
  data.noPrinting_ = options.logLevel == 0;
  data.useSignalHandler_ = false;
  CbcMain0(model, data);
  model.messageHandler()->setLogLevel(options.logLevel);
  model.solver()->messageHandler()->setLogLevel(options.logLevel > 1 ? 1 : 0);

  if (!problem.start.empty()) {
    std::vector<std::pair<std::string, double>> start;
    start.reserve(numColumns);
    for (int column = 0; column < numColumns; ++column)
      start.emplace_back("x" + std::to_string(column), problem.start[column]);
    model.setMIPStart(start);
  }

  std::string logLevel = std::to_string(options.logLevel);
  std::string gap = llvm::formatv("{0:e6}", options.relativeGap).str();
  std::string seconds =
      llvm::formatv("{0:f3}", std::max(0.001, options.timeLimitSeconds)).str();
  // Wall-clock time limit (CBC counts CPU seconds by default).
  const char *argv[] = {
      "qpal-msq",      "-log",   logLevel.c_str(), "-ratioGap", gap.c_str(),
      "-allowableGap", "0",      "-timeMode",      "elapsed",   "-seconds",
      seconds.c_str(), "-solve", "-quit"};
  int argc = static_cast<int>(sizeof(argv) / sizeof(argv[0]));

  auto started = std::chrono::steady_clock::now();
  int rc = CbcMain1(argc, argv, model, cbcCallback, data);
  MipResult result;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  if (rc != 0)
    return makeError(llvm::formatv("CBC failed with return code {0}", rc));

  result.nodes = model.getNodeCount();
  const double *best = model.bestSolution();
  bool haveSolution = best != nullptr;
  if (haveSolution)
    result.solution.assign(best, best + numColumns);
  result.objective = model.getObjValue();
  // CBC reports the incumbent as its bound when a search it restarted after
  // reduced-cost fixing stopped on the gap target, so with a positive target
  // the bound is only trusted up to that target; the LP bound always holds.
  double cbcBound = model.getBestPossibleObjValue();
  if (haveSolution && options.relativeGap > 0)
    cbcBound =
        std::min(cbcBound, result.objective - options.relativeGap *
                                                  std::abs(result.objective));
  result.bound = std::max(cbcBound, lpBound);

  if (model.isProvenInfeasible()) {
    result.status = MipStatus::Infeasible;
  } else if (!haveSolution) {
    result.status = MipStatus::StoppedWithoutSolution;
  } else if (model.status() == 0) {
    // Finished: optimal, or stopped because the gap target was reached.
    result.status = MipStatus::Optimal;
  } else {
    result.status = MipStatus::StoppedWithSolution;
  }
  return result;
}
