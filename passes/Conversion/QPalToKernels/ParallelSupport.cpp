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
// codebook, scales, y)`. A call of an outlined loop body (qpal-outline-
// parallel-loops) `llvm.call @body(a..., lo, hi) {qpal.parallel_loop}`
// stores a..., lo in a stack struct and becomes
// `llvm.call @qpal_parallel_rows(@body_rows, hi - lo, struct, 0, 0, 0, 0)`,
// where `body_rows` unpacks them. The pool splits the row groups [0, count)
// into contiguous parts, one per thread, and calls the kernel on each with
// its own range. The calling thread takes a part too; the workers spin
// briefly between calls (a decode step issues a hundred in a row) and sleep
// on a condition variable otherwise. Threads claim parts through one
// atomic ticket that carries the call's generation, so a worker still
// finishing one call never takes part in, or reads the arguments of, the
// next (ThreadSanitizer checks it: scripts/tsan-package.sh).
// `qpal_set_threads(n)` (exported; the
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
static atomic_int qpal_threads; /* wanted, the caller included; 0: not set */
static int qpal_workers;        /* started; only the calling thread */
/* The current call, written by the calling thread before it publishes the
   call's ticket and read by a thread only after it claimed a part of it. */
static qpal_kernel_fn qpal_fn;
static void *qpal_args[5];
static int64_t qpal_count;
/* The current call's ticket: its generation (bits 32..63), its parts (bits
   16..31) and the next unclaimed part (bits 0..15). A part is claimed by a
   compare-and-swap that keeps the generation, so a worker still in an
   earlier call can never claim a part of a later one, nor read its
   arguments while they are written. */
static _Atomic uint64_t qpal_ticket;
static atomic_int qpal_remaining; /* parts of the call not finished */
static atomic_ulong qpal_generation; /* what idle workers wait on */

static int qpal_default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > QPAL_MAX_THREADS ? QPAL_MAX_THREADS : (int)n;
}

__attribute__((visibility("default"))) void qpal_set_threads(int n) {
  atomic_store_explicit(&qpal_threads,
                        n <= 0 ? qpal_default_threads()
                        : n > QPAL_MAX_THREADS ? QPAL_MAX_THREADS
                                               : n,
                        memory_order_relaxed);
}

/* Runs parts of the call of `generation` until none is left. */
static void qpal_work(uint32_t generation) {
  for (;;) {
    uint64_t ticket = atomic_load_explicit(&qpal_ticket, memory_order_acquire);
    uint64_t parts = (ticket >> 16) & 0xFFFF, part = ticket & 0xFFFF;
    if ((uint32_t)(ticket >> 32) != generation || part >= parts)
      return;
    if (!atomic_compare_exchange_weak_explicit(&qpal_ticket, &ticket,
                                               ticket + 1, memory_order_acquire,
                                               memory_order_relaxed))
      continue;
    int64_t range[2] = {qpal_count * (int64_t)part / (int64_t)parts,
                        qpal_count * (int64_t)(part + 1) / (int64_t)parts};
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
    qpal_work((uint32_t)seen);
  }
  return 0;
}

void qpal_parallel_rows(qpal_kernel_fn fn, int64_t count, void *a0, void *a1,
                        void *a2, void *a3, void *a4) {
  if (!atomic_load_explicit(&qpal_threads, memory_order_relaxed))
    qpal_set_threads(0);
  int threads = atomic_load_explicit(&qpal_threads, memory_order_relaxed);
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
  /* Every part of the previous call finished (below), so no thread reads
     these until it claims a part of this call. */
  qpal_fn = fn;
  qpal_args[0] = a0;
  qpal_args[1] = a1;
  qpal_args[2] = a2;
  qpal_args[3] = a3;
  qpal_args[4] = a4;
  qpal_count = count;
  atomic_store_explicit(&qpal_remaining, threads, memory_order_relaxed);
  uint32_t generation =
      (uint32_t)atomic_load_explicit(&qpal_generation, memory_order_relaxed) +
      1;
  atomic_store_explicit(&qpal_ticket,
                        (uint64_t)generation << 32 | (uint64_t)threads << 16,
                        memory_order_release);
  atomic_fetch_add_explicit(&qpal_generation, 1, memory_order_release);
  pthread_mutex_lock(&qpal_lock);
  pthread_cond_broadcast(&qpal_wake);
  pthread_mutex_unlock(&qpal_lock);
  qpal_work(generation);
  while (atomic_load_explicit(&qpal_remaining, memory_order_acquire) > 0)
    __builtin_ia32_pause();
}
)c";
}

namespace {

/// The names of the pool's entry point and its LLVM type.
struct Pool {
  explicit Pool(ModuleOp module) {
    MLIRContext *context = module.getContext();
    ptr = LLVM::LLVMPointerType::get(context);
    i64 = IntegerType::get(context, 64);
    type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                       {ptr, i64, ptr, ptr, ptr, ptr, ptr});
    if (!module.lookupSymbol(name)) {
      OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
      LLVM::LLVMFuncOp::create(builder, module.getLoc(), name, type);
    }
  }
  static constexpr StringLiteral name = "qpal_parallel_rows";
  Type ptr, i64;
  LLVM::LLVMFunctionType type;
};

/// The pool-shaped entry of an outlined loop body `callee` (operands `types`,
/// the last two the iteration range): `void callee_rows(ctx, _, _, _, _,
/// range)` loads the operands from the struct at `ctx` and runs iterations
/// [lo + range[0], lo + range[1]).
LLVM::LLVMFuncOp getLoopTrampoline(ModuleOp module, const Pool &pool,
                                   StringRef callee,
                                   LLVM::LLVMStructType context) {
  std::string name = (callee + "_rows").str();
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return existing;
  auto *calleeOp = module.lookupSymbol(callee);
  OpBuilder builder(module.getContext());
  builder.setInsertionPointAfter(calleeOp);
  Location loc = calleeOp->getLoc();
  auto trampoline = LLVM::LLVMFuncOp::create(
      builder, loc, name,
      LLVM::LLVMFunctionType::get(
          LLVM::LLVMVoidType::get(module.getContext()),
          {pool.ptr, pool.ptr, pool.ptr, pool.ptr, pool.ptr, pool.ptr}));
  trampoline.setLinkage(LLVM::Linkage::Internal);
  Block *entry = trampoline.addEntryBlock(builder);
  builder.setInsertionPointToStart(entry);
  Value fields =
      LLVM::LoadOp::create(builder, loc, context, entry->getArgument(0));
  SmallVector<Value> operands;
  for (unsigned i = 0, e = context.getBody().size(); i < e; ++i)
    operands.push_back(LLVM::ExtractValueOp::create(builder, loc, fields, i));
  Value lo = operands.back();
  Value range = entry->getArgument(5);
  Value begin = LLVM::LoadOp::create(builder, loc, pool.i64, range);
  Value endAddress = LLVM::GEPOp::create(builder, loc, pool.ptr, pool.i64,
                                         range, ArrayRef<LLVM::GEPArg>{1});
  Value end = LLVM::LoadOp::create(builder, loc, pool.i64, endAddress);
  operands.back() = LLVM::AddOp::create(builder, loc, lo, begin);
  operands.push_back(LLVM::AddOp::create(builder, loc, lo, end));
  LLVM::CallOp::create(builder, loc, TypeRange{}, callee, operands);
  LLVM::ReturnOp::create(builder, loc, ValueRange{});
  return trampoline;
}

/// Replaces `call` (an outlined loop body over [lo, hi)) by a pool call:
/// the operands but hi go to a stack struct, the pool splits hi - lo.
LogicalResult routeLoopCall(ModuleOp module, const Pool &pool,
                            LLVM::CallOp call) {
  std::optional<StringRef> callee = call.getCallee();
  unsigned count = call.getNumOperands();
  if (!callee || count < 2 || call.getNumResults() != 0 ||
      call.getOperand(count - 1).getType() != pool.i64 ||
      call.getOperand(count - 2).getType() != pool.i64)
    return call.emitOpError()
           << "expects a direct call of an outlined loop body whose last two "
              "operands are an i64 iteration range, with '"
           << qpal::kParallelLoopAttrName << "'";
  SmallVector<Type> fieldTypes;
  for (Value operand : call.getOperands().drop_back())
    fieldTypes.push_back(operand.getType());
  auto context =
      LLVM::LLVMStructType::getLiteral(module.getContext(), fieldTypes);
  LLVM::LLVMFuncOp trampoline =
      getLoopTrampoline(module, pool, *callee, context);
  auto parent = call->getParentOfType<LLVM::LLVMFuncOp>();
  OpBuilder builder(call);
  Location loc = call.getLoc();
  // The struct's slot lives in the entry block (the call may sit in a
  // loop).
  Value slot;
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(&parent.getBody().front());
    Value one = LLVM::ConstantOp::create(builder, loc, pool.i64,
                                         builder.getI64IntegerAttr(1));
    slot = LLVM::AllocaOp::create(builder, loc, pool.ptr, context, one);
  }
  Value fields = LLVM::UndefOp::create(builder, loc, context);
  for (auto [i, operand] : llvm::enumerate(call.getOperands().drop_back()))
    fields = LLVM::InsertValueOp::create(builder, loc, fields, operand, i);
  LLVM::StoreOp::create(builder, loc, fields, slot);
  Value iterations = LLVM::SubOp::create(
      builder, loc, call.getOperand(count - 1), call.getOperand(count - 2));
  Value function = LLVM::AddressOfOp::create(builder, loc, pool.ptr,
                                             trampoline.getSymName());
  Value null = LLVM::ZeroOp::create(builder, loc, pool.ptr);
  LLVM::CallOp::create(
      builder, loc, pool.type, Pool::name,
      ValueRange{function, iterations, slot, null, null, null, null});
  call.erase();
  return success();
}

} // namespace

LogicalResult qpal::routeParallelKernelCalls(ModuleOp module) {
  SmallVector<LLVM::CallOp> calls, loops;
  module.walk([&](LLVM::CallOp call) {
    if (call->hasAttr(kParallelAttrName))
      calls.push_back(call);
    if (call->hasAttr(qpal::kParallelLoopAttrName))
      loops.push_back(call);
  });
  if (calls.empty() && loops.empty())
    return success();
  Pool pool(module);
  for (LLVM::CallOp call : loops)
    if (failed(routeLoopCall(module, pool, call)))
      return failure();
  Type ptr = pool.ptr, i64 = pool.i64;
  LLVM::LLVMFunctionType poolType = pool.type;
  StringRef poolName = Pool::name;
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
