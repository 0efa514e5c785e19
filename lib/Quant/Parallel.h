//===- Parallel.h - Work sharing for the codecs -----------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A minimal parallel-for over independent items (tiles, rows) on
// std::thread. Each worker gets a stable index so that callers can give it
// private scratch memory. Private to lib/Quant.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_LIB_QUANT_PARALLEL_H
#define QPAL_LIB_QUANT_PARALLEL_H

#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstddef>

namespace qpal::detail {

/// Returns the number of workers to use: `requested`, or the hardware
/// concurrency when it is 0, and never more than `items` (at least 1).
unsigned resolveThreads(unsigned requested, size_t items);

/// Calls `body(worker, item)` once for every item in [0, items), on
/// `workers` threads (the calling thread is one of them). Items are handed
/// out dynamically in increasing order; `worker` is in [0, workers).
void parallelFor(size_t items, unsigned workers,
                 llvm::function_ref<void(unsigned worker, size_t item)> body);

} // namespace qpal::detail

#endif // QPAL_LIB_QUANT_PARALLEL_H
