//===- Progress.cpp - A progress line for long work -----------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Support/Progress.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace qpal;

ProgressLine::ProgressLine(llvm::StringRef prefix, bool quiet)
    : prefix(prefix.str()), start(std::chrono::steady_clock::now()),
      lastDrawn(start - std::chrono::seconds(1)) {
  llvm::StringRef setting;
  if (const char *value = std::getenv("QPAL_PROGRESS"))
    setting = value;
  if (quiet || setting == "never")
    mode = Mode::Hidden;
  else if (setting == "always")
    mode = llvm::errs().is_displayed() ? Mode::Terminal : Mode::Lines;
  else
    mode = llvm::errs().is_displayed() ? Mode::Terminal : Mode::Hidden;
}

ProgressLine::~ProgressLine() { finish(); }

double ProgressLine::elapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

void ProgressLine::update(int64_t done, int64_t total, llvm::StringRef unit,
                          llvm::StringRef detail) {
  if (mode == Mode::Hidden)
    return;
  auto now = std::chrono::steady_clock::now();
  if (mode == Mode::Terminal && done < total &&
      now - lastDrawn < std::chrono::milliseconds(100))
    return;
  lastDrawn = now;
  double elapsed = elapsedSeconds();
  std::string text =
      llvm::formatv("{0}: {1}/{2} {3}", prefix, done, total, unit).str();
  if (!detail.empty())
    text += (" (" + detail + ")").str();
  text += llvm::formatv(", {0:f0} s", elapsed).str();
  if (done > 0 && done < total)
    text += llvm::formatv(", ETA {0:f0} s",
                          elapsed * double(total - done) / double(done))
                .str();
  llvm::raw_ostream &os = llvm::errs();
  if (mode == Mode::Lines) {
    os << text << "\n";
    return;
  }
  // Erase what a longer earlier line left.
  os << "\r" << text << "\x1b[K";
  os.flush();
  open = true;
}

void ProgressLine::step(llvm::StringRef what) {
  if (mode == Mode::Hidden)
    return;
  finish();
  llvm::errs() << llvm::formatv("{0}: [{1,5:f1} s] {2}\n", prefix,
                                elapsedSeconds(), what);
}

void ProgressLine::finish() {
  if (!open)
    return;
  llvm::errs() << "\n";
  open = false;
}
