//===- Parallel.cpp - Work sharing for the codecs -------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "Parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

using namespace qpal;

unsigned detail::resolveThreads(unsigned requested, size_t items) {
  unsigned threads = requested;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  if (items < threads)
    threads = static_cast<unsigned>(std::max<size_t>(items, 1));
  return threads;
}

void detail::parallelFor(
    size_t items, unsigned workers,
    llvm::function_ref<void(unsigned worker, size_t item)> body) {
  if (workers <= 1 || items <= 1) {
    for (size_t item = 0; item < items; ++item)
      body(0, item);
    return;
  }
  std::atomic<size_t> next{0};
  auto run = [&](unsigned worker) {
    for (size_t item = next.fetch_add(1, std::memory_order_relaxed);
         item < items; item = next.fetch_add(1, std::memory_order_relaxed))
      body(worker, item);
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (unsigned worker = 1; worker < workers; ++worker)
    threads.emplace_back(run, worker);
  run(0);
  for (std::thread &thread : threads)
    thread.join();
}
