//===- Progress.h - A progress line for long work ---------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Long work (compiling, calibrating, evaluating) shows one line on stderr,
// redrawn in place: "qpal eval: 12/16 windows, 41 s, ETA 14 s". It is shown
// only on a terminal and not with --quiet; the environment variable
// QPAL_PROGRESS=always shows it on a pipe too, one line per update (what
// the tests check), and QPAL_PROGRESS=never hides it everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_SUPPORT_PROGRESS_H
#define QPAL_SUPPORT_PROGRESS_H

#include "llvm/ADT/StringRef.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace qpal {

class ProgressLine {
public:
  /// A line that starts with "`prefix`: " ("qpal eval"); `quiet` hides it.
  explicit ProgressLine(llvm::StringRef prefix, bool quiet = false);
  ProgressLine(const ProgressLine &) = delete;
  ProgressLine &operator=(const ProgressLine &) = delete;
  /// Ends the line if one was drawn.
  ~ProgressLine();

  /// Whether updates are drawn at all.
  bool isShown() const { return mode != Mode::Hidden; }

  /// Draws "<prefix>: <done>/<total> <unit>[ (<detail>)], <elapsed> s, ETA
  /// <eta> s". On a terminal at most ten times a second (and always the
  /// last); the ETA assumes the rest goes at the pace so far.
  void update(int64_t done, int64_t total, llvm::StringRef unit,
              llvm::StringRef detail = "");

  /// Draws a step without a count: "<prefix>: [<elapsed> s] <what>", on a
  /// line of its own.
  void step(llvm::StringRef what);

  /// Ends the line (a newline) if an update is on it.
  void finish();

  /// Seconds since the line was made.
  double elapsedSeconds() const;

private:
  enum class Mode { Hidden, Terminal, Lines };
  Mode mode;
  std::string prefix;
  std::chrono::steady_clock::time_point start, lastDrawn;
  bool open = false;
};

} // namespace qpal

#endif // QPAL_SUPPORT_PROGRESS_H
