//===- RotationKernel.cpp - The activation rotation kernel ----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The input side of incoherence processing: y[n] = RHT(s * x[n]), the
// transform lib/Quant's HadamardTransform applies (quantizers.md 3.2). With
// K * M = cols (M a power of two, K = 1 or a reference order):
//
//   1. t = s * x;
//   2. a Walsh-Hadamard butterfly of length M over each of the K blocks
//      (log2 M stages, each a pass of cols / 2 pair updates);
//   3. y[a' * M + b] = cols^(-1/2) * sum_a Hk[a][a'] * t[a * M + b].
//
// The CPU kernel walks a range of activation rows; the GPU kernel has one
// block per row, its threads sharing each stage's pairs with a barrier
// between stages. Stages 1-2 run in the scratch buffer `t`, stage 3 writes
// `y`, so `x` is left untouched and no stage reads what it writes.
//
// When M is a multiple of 16 the CPU kernel works on vector<16xf32>: stage
// 1 and the butterflies of span 1-8 run in registers on one 16-column chunk
// (a shuffle to the partner lanes, a select between sum and difference),
// the wider spans pair whole chunks, and stage 3 sums whole chunks. Every
// value sees the same operations in the same order as the scalar stages
// (and lib/Quant's HadamardTransform), so the results are bit-identical;
// only the loop structure differs.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"

#include "qpal/Quant/Hadamard.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

std::string qpal::getRotationKernelName(int64_t cols, int64_t batch,
                                        StringRef target) {
  return llvm::formatv("qpal_rotate_k{0}_n{1}_{2}", cols, batch, target).str();
}

namespace {

/// The argument types of a rotation kernel: x, signs, Hk (K x K, f32), the
/// scratch t and y.
struct RotationTypes {
  RotationTypes(OpBuilder &builder, int64_t cols, int64_t batch,
                unsigned order) {
    Type f32 = builder.getF32Type();
    rows = MemRefType::get({batch, cols}, f32);
    signs = MemRefType::get({cols}, f32);
    hk = MemRefType::get({static_cast<int64_t>(order) * order}, f32);
  }
  MemRefType rows, signs, hk;
};

/// Emits `body(i)` for i in [begin, end) step `step`.
void emitLoop(OpBuilder &builder, Location loc, Value begin, int64_t end,
              Value step, function_ref<void(Value)> body) {
  auto loop = scf::ForOp::create(builder, loc, begin,
                                 constIndex(builder, loc, end), step);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

/// Emits the three stages for activation row `n`. Each stage's loops start
/// at `first` and step by `step` (thread and block size on the GPU, 0 and 1
/// on the CPU); `barrier` separates the stages.
void emitRotationStages(OpBuilder &builder, Location loc, int64_t cols,
                        const HadamardFactors &factors, Value x, Value signs,
                        Value hk, Value t, Value y, Value n, Value first,
                        Value step, function_ref<void()> barrier) {
  FloatType f32 = builder.getF32Type();
  // 1. t = s * x.
  emitLoop(builder, loc, first, cols, step, [&](Value i) {
    Value product = arith::MulFOp::create(
        builder, loc, memref::LoadOp::create(builder, loc, x, ValueRange{n, i}),
        memref::LoadOp::create(builder, loc, signs, i));
    memref::StoreOp::create(builder, loc, product, t, ValueRange{n, i});
  });
  barrier();
  // 2. Butterflies of span h = 1, 2, ..., M/2: pair p updates t[i] and
  //    t[i + h] with i = (p / h) * 2h + p mod h.
  for (int64_t h = 1; h < factors.powerOfTwo; h *= 2) {
    emitLoop(builder, loc, first, cols / 2, step, [&](Value p) {
      Value i = arith::AddIOp::create(
          builder, loc,
          arith::MulIOp::create(
              builder, loc,
              arith::DivUIOp::create(builder, loc, p,
                                     constIndex(builder, loc, h)),
              constIndex(builder, loc, 2 * h)),
          arith::RemUIOp::create(builder, loc, p, constIndex(builder, loc, h)));
      Value j =
          arith::AddIOp::create(builder, loc, i, constIndex(builder, loc, h));
      Value a = memref::LoadOp::create(builder, loc, t, ValueRange{n, i});
      Value b = memref::LoadOp::create(builder, loc, t, ValueRange{n, j});
      memref::StoreOp::create(builder, loc,
                              arith::AddFOp::create(builder, loc, a, b), t,
                              ValueRange{n, i});
      memref::StoreOp::create(builder, loc,
                              arith::SubFOp::create(builder, loc, a, b), t,
                              ValueRange{n, j});
    });
    barrier();
  }
  // 3. y[a' * M + b] = cols^(-1/2) sum_a Hk[a][a'] t[a * M + b].
  Value norm = arith::ConstantFloatOp::create(
      builder, loc, f32,
      llvm::APFloat(static_cast<float>(1.0 / std::sqrt(double(cols)))));
  unsigned order = factors.smallOrder;
  int64_t m = factors.powerOfTwo;
  emitLoop(builder, loc, first, cols, step, [&](Value out) {
    Value sum;
    if (order == 1) {
      sum = memref::LoadOp::create(builder, loc, t, ValueRange{n, out});
    } else {
      Value outBlock = arith::DivUIOp::create(builder, loc, out,
                                              constIndex(builder, loc, m));
      Value b = arith::RemUIOp::create(builder, loc, out,
                                       constIndex(builder, loc, m));
      for (unsigned a = 0; a < order; ++a) {
        Value weight = memref::LoadOp::create(
            builder, loc, hk,
            ValueRange{arith::AddIOp::create(
                builder, loc, constIndex(builder, loc, a * order), outBlock)});
        Value in = memref::LoadOp::create(
            builder, loc, t,
            ValueRange{n, arith::AddIOp::create(builder, loc,
                                                constIndex(builder, loc, a * m),
                                                b)});
        Value term = arith::MulFOp::create(builder, loc, weight, in);
        sum = sum ? arith::AddFOp::create(builder, loc, sum, term).getResult()
                  : term;
      }
    }
    memref::StoreOp::create(builder, loc,
                            arith::MulFOp::create(builder, loc, sum, norm), y,
                            ValueRange{n, out});
  });
}

/// The CPU vector width of the rotation kernel, in f32 lanes.
constexpr int64_t kRotationLanes = 16;

/// Emits `body(i)` for i in [0, end) step `step` (constants).
void emitConstantLoop(OpBuilder &builder, Location loc, int64_t end,
                      int64_t step, function_ref<void(Value)> body) {
  emitLoop(builder, loc, constIndex(builder, loc, 0), end,
           constIndex(builder, loc, step), body);
}

/// The three stages for activation row `n` on vector<16xf32> chunks; needs
/// M % 16 == 0. Same arithmetic, in the same order, as emitRotationStages.
void emitVectorRotationStages(OpBuilder &builder, Location loc, int64_t cols,
                              const HadamardFactors &factors, Value x,
                              Value signs, Value hk, Value t, Value y,
                              Value n) {
  constexpr int64_t w = kRotationLanes;
  auto chunk = VectorType::get({w}, builder.getF32Type());
  auto load = [&](Value memref, ValueRange indices) -> Value {
    return vector::LoadOp::create(builder, loc, chunk, memref, indices);
  };
  auto store = [&](Value value, Value memref, ValueRange indices) {
    vector::StoreOp::create(builder, loc, value, memref, indices);
  };
  // 1. and the spans 1-8 of 2., one chunk at a time in registers.
  emitConstantLoop(builder, loc, cols, w, [&](Value c) {
    Value v =
        arith::MulFOp::create(builder, loc, load(x, {n, c}), load(signs, {c}));
    for (int64_t h = 1; h < w; h *= 2) {
      SmallVector<int64_t> partner(w);
      SmallVector<bool> low(w);
      for (int64_t lane = 0; lane < w; ++lane) {
        partner[lane] = lane ^ h;
        low[lane] = (lane & h) == 0;
      }
      Value other = vector::ShuffleOp::create(builder, loc, v, v, partner);
      // Lane i < i + h holds u + v, lane i + h holds u - v (u the lower).
      Value sum = arith::AddFOp::create(builder, loc, v, other);
      Value difference = arith::SubFOp::create(builder, loc, other, v);
      Value mask = arith::ConstantOp::create(
          builder, loc,
          DenseElementsAttr::get(VectorType::get({w}, builder.getI1Type()),
                                 ArrayRef<bool>(low)));
      v = arith::SelectOp::create(builder, loc, mask, sum, difference);
    }
    store(v, t, {n, c});
  });
  // 2. the spans 16 .. M/2: chunk pairs (i, i + h), i = block * 2h + q.
  for (int64_t h = w; h < factors.powerOfTwo; h *= 2) {
    emitConstantLoop(builder, loc, cols, 2 * h, [&](Value block) {
      emitConstantLoop(builder, loc, h, w, [&](Value q) {
        Value i = arith::AddIOp::create(builder, loc, block, q);
        Value j =
            arith::AddIOp::create(builder, loc, i, constIndex(builder, loc, h));
        Value a = load(t, {n, i}), b = load(t, {n, j});
        store(arith::AddFOp::create(builder, loc, a, b), t, {n, i});
        store(arith::SubFOp::create(builder, loc, a, b), t, {n, j});
      });
    });
  }
  // 3. y[a' * M + b] = cols^(-1/2) sum_a Hk[a][a'] t[a * M + b].
  FloatType f32 = builder.getF32Type();
  Value norm = vector::BroadcastOp::create(
      builder, loc, chunk,
      arith::ConstantFloatOp::create(
          builder, loc, f32,
          llvm::APFloat(static_cast<float>(1.0 / std::sqrt(double(cols))))));
  unsigned order = factors.smallOrder;
  int64_t m = factors.powerOfTwo;
  if (order == 1) {
    emitConstantLoop(builder, loc, cols, w, [&](Value c) {
      store(arith::MulFOp::create(builder, loc, load(t, {n, c}), norm), y,
            {n, c});
    });
    return;
  }
  // Each output chunk sums its `order` terms in a's order, as
  // HadamardTransform does (a chain of dependent additions); `group` output
  // blocks are summed side by side, so that their chains overlap and one
  // load of t's chunk serves them all.
  unsigned group = 1;
  for (unsigned g = 8; g > 1; --g)
    if (order % g == 0) {
      group = g;
      break;
    }
  auto weight = [&](OpBuilder &b, Value a, Value outBlock) -> Value {
    Value scalar = memref::LoadOp::create(
        b, loc, hk,
        ValueRange{arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, a, constIndex(b, loc, order)),
            outBlock)});
    return vector::BroadcastOp::create(b, loc, chunk, scalar);
  };
  auto terms = [&](OpBuilder &b, Value a, Value firstBlock, Value column) {
    Value in = vector::LoadOp::create(
        b, loc, chunk, t,
        ValueRange{n,
                   arith::AddIOp::create(
                       b, loc,
                       arith::MulIOp::create(b, loc, a, constIndex(b, loc, m)),
                       column)});
    SmallVector<Value> result;
    for (unsigned j = 0; j < group; ++j) {
      Value outBlock =
          arith::AddIOp::create(b, loc, firstBlock, constIndex(b, loc, j));
      result.push_back(
          arith::MulFOp::create(b, loc, weight(b, a, outBlock), in));
    }
    return result;
  };
  emitConstantLoop(builder, loc, order, group, [&](Value firstBlock) {
    emitConstantLoop(builder, loc, m, w, [&](Value column) {
      SmallVector<Value> first =
          terms(builder, constIndex(builder, loc, 0), firstBlock, column);
      auto sum = scf::ForOp::create(
          builder, loc, constIndex(builder, loc, 1),
          constIndex(builder, loc, order), constIndex(builder, loc, 1), first,
          [&](OpBuilder &b, Location, Value a, ValueRange acc) {
            SmallVector<Value> next;
            for (auto [partial, term] :
                 llvm::zip_equal(acc, terms(b, a, firstBlock, column)))
              next.push_back(arith::AddFOp::create(b, loc, partial, term));
            scf::YieldOp::create(b, loc, next);
          });
      for (unsigned j = 0; j < group; ++j) {
        Value outBlock = arith::AddIOp::create(builder, loc, firstBlock,
                                               constIndex(builder, loc, j));
        Value out = arith::AddIOp::create(
            builder, loc,
            arith::MulIOp::create(builder, loc, outBlock,
                                  constIndex(builder, loc, m)),
            column);
        store(arith::MulFOp::create(builder, loc, sum.getResult(j), norm), y,
              {n, out});
      }
    });
  });
}

/// Checks the size and factors it.
FailureOr<HadamardFactors> factorRotation(Location loc, int64_t cols,
                                          int64_t batch) {
  if (cols <= 1 || batch <= 0)
    return emitError(loc) << "a rotation kernel needs cols > 1 and a "
                             "positive batch, got cols "
                          << cols << ", batch " << batch;
  llvm::Expected<HadamardFactors> factors = factorHadamardSize(cols);
  if (!factors)
    return emitError(loc) << llvm::toString(factors.takeError());
  return *factors;
}

} // namespace

FailureOr<func::FuncOp> qpal::buildCpuRotationKernel(OpBuilder &builder,
                                                     Location loc, int64_t cols,
                                                     int64_t batch) {
  FailureOr<HadamardFactors> factors = factorRotation(loc, cols, batch);
  if (failed(factors))
    return failure();
  RotationTypes types(builder, cols, batch, factors->smallOrder);
  auto rangeType = MemRefType::get({2}, builder.getI64Type());
  auto function = func::FuncOp::create(
      builder, loc, getRotationKernelName(cols, batch, "cpu"),
      builder.getFunctionType({types.rows, types.signs, types.hk, types.rows,
                               types.rows, rangeType},
                              {}));
  function->setAttr(kBarePtrAttrName, builder.getUnitAttr());
  Block *entry = function.addEntryBlock();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);
  auto [first, last] = emitRangeBounds(builder, loc, entry->getArgument(5));
  auto rowsLoop = scf::ForOp::create(builder, loc, first, last,
                                     constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(rowsLoop.getBody());
  if (factors->powerOfTwo % kRotationLanes == 0)
    emitVectorRotationStages(builder, loc, cols, *factors,
                             entry->getArgument(0), entry->getArgument(1),
                             entry->getArgument(2), entry->getArgument(3),
                             entry->getArgument(4), rowsLoop.getInductionVar());
  else
    emitRotationStages(builder, loc, cols, *factors, entry->getArgument(0),
                       entry->getArgument(1), entry->getArgument(2),
                       entry->getArgument(3), entry->getArgument(4),
                       rowsLoop.getInductionVar(), constIndex(builder, loc, 0),
                       constIndex(builder, loc, 1), [] {});
  builder.setInsertionPointToEnd(entry);
  func::ReturnOp::create(builder, loc);
  return function;
}

FailureOr<gpu::GPUFuncOp>
qpal::buildGpuRotationKernel(OpBuilder &builder, Location loc, int64_t cols,
                             int64_t batch, int64_t threads, StringRef name) {
  FailureOr<HadamardFactors> factors = factorRotation(loc, cols, batch);
  if (failed(factors))
    return failure();
  RotationTypes types(builder, cols, batch, factors->smallOrder);
  auto function = gpu::GPUFuncOp::create(
      builder, loc, name,
      builder.getFunctionType(
          {types.rows, types.signs, types.hk, types.rows, types.rows}, {}));
  function->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                    builder.getUnitAttr());
  function.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));
  function.setKnownGridSizeAttr(
      builder.getDenseI32ArrayAttr({static_cast<int32_t>(batch), 1, 1}));
  Block &entry = function.getBody().front();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&entry);
  Value n = gpu::BlockIdOp::create(builder, loc, gpu::Dimension::x);
  Value thread = gpu::ThreadIdOp::create(builder, loc, gpu::Dimension::x);
  // The stages run in global memory: a block barrier orders the block's
  // global accesses, and the block owns its row.
  emitRotationStages(builder, loc, cols, *factors, entry.getArgument(0),
                     entry.getArgument(1), entry.getArgument(2),
                     entry.getArgument(3), entry.getArgument(4), n, thread,
                     constIndex(builder, loc, threads),
                     [&] { gpu::BarrierOp::create(builder, loc); });
  gpu::ReturnOp::create(builder, loc);
  return function;
}
