//===- ParallelSupport.cpp - The host thread pool a package links ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The C source of the thread pool that is linked into every host shared
// object qpal compiles (emitHostSharedObject), and the LLVM-dialect rewrite
// that sends the kernel calls marked `qpal.parallel` through it.
//
// A marked call `llvm.call @kernel(x, codes, codebook, scales, y, range)`
// becomes `llvm.call @qpal_parallel_rows(@kernel, count, x, codes,
// codebook, scales, y)`: the pool splits the kernel's row groups [0, count)
// into contiguous parts, one per thread, and calls the kernel on each with
// its own range. The calling thread takes a part too; the workers spin
// briefly between calls (a decode step issues a hundred in a row) and sleep
// on a condition variable otherwise. `qpal_set_threads(n)` (exported; the
// runtime calls it) sets the threads, n <= 0 meaning one per online core.
// The workers run this code for the life of the process, so the shared
// object is linked `-z nodelete`: closing a package must not unmap it.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

const char *qpal::getHostParallelSupportSource() {
  return R"c(
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

typedef void (*qpal_kernel_fn)(void *, void *, void *, void *, void *,
                               int64_t *);
enum { QPAL_MAX_THREADS = 64, QPAL_SPINS = 200000 };

static pthread_mutex_t qpal_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qpal_wake = PTHREAD_COND_INITIALIZER;
static int qpal_threads;  /* wanted, the caller included; 0: not set */
static int qpal_workers;  /* started */
static qpal_kernel_fn qpal_fn;
static void *qpal_args[5];
static int64_t qpal_count;
static int qpal_parts;
static atomic_int qpal_next;
static atomic_int qpal_remaining;
static atomic_ulong qpal_generation;

static int qpal_default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > QPAL_MAX_THREADS ? QPAL_MAX_THREADS : (int)n;
}

__attribute__((visibility("default"))) void qpal_set_threads(int n) {
  pthread_mutex_lock(&qpal_lock);
  qpal_threads = n <= 0 ? qpal_default_threads()
                        : n > QPAL_MAX_THREADS ? QPAL_MAX_THREADS : n;
  pthread_mutex_unlock(&qpal_lock);
}

/* Runs parts of the current call until none is left. */
static void qpal_work(void) {
  for (;;) {
    int part = atomic_fetch_add_explicit(&qpal_next, 1, memory_order_acquire);
    if (part >= qpal_parts)
      return;
    int64_t range[2] = {qpal_count * part / qpal_parts,
                        qpal_count * (part + 1) / qpal_parts};
    if (range[1] > range[0])
      qpal_fn(qpal_args[0], qpal_args[1], qpal_args[2], qpal_args[3],
              qpal_args[4], range);
    atomic_fetch_sub_explicit(&qpal_remaining, 1, memory_order_release);
  }
}

static void *qpal_worker(void *unused) {
  (void)unused;
  unsigned long seen = 0;
  for (;;) {
    int spins = 0;
    while (atomic_load_explicit(&qpal_generation, memory_order_acquire) ==
               seen &&
           ++spins < QPAL_SPINS)
      __builtin_ia32_pause();
    if (atomic_load_explicit(&qpal_generation, memory_order_acquire) == seen) {
      pthread_mutex_lock(&qpal_lock);
      while (atomic_load_explicit(&qpal_generation, memory_order_acquire) ==
             seen)
        pthread_cond_wait(&qpal_wake, &qpal_lock);
      pthread_mutex_unlock(&qpal_lock);
    }
    seen = atomic_load_explicit(&qpal_generation, memory_order_acquire);
    qpal_work();
  }
  return 0;
}

void qpal_parallel_rows(qpal_kernel_fn fn, int64_t count, void *a0, void *a1,
                        void *a2, void *a3, void *a4) {
  if (!qpal_threads)
    qpal_set_threads(0);
  int threads = qpal_threads;
  if (threads > count)
    threads = (int)count;
  if (threads <= 1) {
    int64_t range[2] = {0, count};
    fn(a0, a1, a2, a3, a4, range);
    return;
  }
  while (qpal_workers < threads - 1) {
    pthread_t thread;
    if (pthread_create(&thread, 0, qpal_worker, 0) != 0)
      break;
    pthread_detach(thread);
    ++qpal_workers;
  }
  if (threads > qpal_workers + 1)
    threads = qpal_workers + 1;
  qpal_fn = fn;
  qpal_args[0] = a0;
  qpal_args[1] = a1;
  qpal_args[2] = a2;
  qpal_args[3] = a3;
  qpal_args[4] = a4;
  qpal_count = count;
  qpal_parts = threads;
  atomic_store_explicit(&qpal_remaining, threads, memory_order_relaxed);
  atomic_store_explicit(&qpal_next, 0, memory_order_release);
  atomic_fetch_add_explicit(&qpal_generation, 1, memory_order_release);
  pthread_mutex_lock(&qpal_lock);
  pthread_cond_broadcast(&qpal_wake);
  pthread_mutex_unlock(&qpal_lock);
  qpal_work();
  while (atomic_load_explicit(&qpal_remaining, memory_order_acquire) > 0)
    __builtin_ia32_pause();
}
)c";
}

LogicalResult qpal::routeParallelKernelCalls(ModuleOp module) {
  SmallVector<LLVM::CallOp> calls;
  module.walk([&](LLVM::CallOp call) {
    if (call->hasAttr(kParallelAttrName))
      calls.push_back(call);
  });
  if (calls.empty())
    return success();
  MLIRContext *context = module.getContext();
  auto ptr = LLVM::LLVMPointerType::get(context);
  auto i64 = IntegerType::get(context, 64);
  auto poolType = LLVM::LLVMFunctionType::get(
      LLVM::LLVMVoidType::get(context), {ptr, i64, ptr, ptr, ptr, ptr, ptr});
  StringRef poolName = "qpal_parallel_rows";
  if (!module.lookupSymbol(poolName)) {
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    LLVM::LLVMFuncOp::create(builder, module.getLoc(), poolName, poolType);
  }
  for (LLVM::CallOp call : calls) {
    auto count = call->getAttrOfType<IntegerAttr>(kParallelAttrName);
    std::optional<StringRef> callee = call.getCallee();
    if (!callee || call.getNumOperands() != 6 || !count)
      return call.emitOpError()
             << "expects a direct call of a CPU kernel (five buffers and a "
                "range) with an integer '"
             << kParallelAttrName << "'";
    OpBuilder builder(call);
    Location loc = call.getLoc();
    Value function = LLVM::AddressOfOp::create(builder, loc, ptr, *callee);
    Value rows = LLVM::ConstantOp::create(builder, loc, i64, count);
    SmallVector<Value> operands = {function, rows};
    llvm::append_range(operands, call.getOperands().take_front(5));
    LLVM::CallOp::create(builder, loc, poolType, poolName, operands);
    call.erase();
  }
  return success();
}
