//===- SimtKernel.cpp - Kernels of the CUDA-core (SIMT) layouts -----------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The SIMT layouts of SQ and VQ (quantizers.md section 6.6) give each warp one
// row: a row's columns are cut into chunks of 1024 * v, and lane w of a chunk
// with E lanes owns 32 codes in b 32-bit words interleaved across lanes, so
// the words of a warp are read coalesced. Code c of the lane covers column
// chunk + 8*E*group(c) + 8*w + offset(c); the quantizer attribute emits the
// values (`emitSimtDecode`). The GPU kernel runs 4 warps (rows) per block and
// reduces a row with warp shuffles; the CPU kernel walks rows.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

namespace {

/// Emits the decode of `lane`'s codes in chunk `chunk` (E lanes) of `row` and
/// calls `consume(code, column)` for each.
LogicalResult
emitSimtChunk(OpBuilder &builder, Location loc, const KernelShape &shape,
              const SimtGeometry &geometry, const KernelArgs &args, Value row,
              Value chunk, Value lane, int64_t lanes,
              function_ref<void(const DecodedSimtCode &, Value)> consume) {
  // Word omega of the lane: row*rowWords + 32*b*chunk + lane + omega*E.
  Value base = arith::AddIOp::create(
      builder, loc,
      arith::AddIOp::create(
          builder, loc,
          arith::MulIOp::create(builder, loc, row,
                                constIndex(builder, loc, geometry.rowWords)),
          arith::MulIOp::create(
              builder, loc, chunk,
              constIndex(builder, loc, kWarpLanes * geometry.bits))),
      lane);
  auto wordOffset = [&](OpBuilder &b, Location l, unsigned omega) -> Value {
    Value word =
        omega == 0
            ? base
            : arith::AddIOp::create(b, l, base, constIndex(b, l, omega * lanes))
                  .getResult();
    return arith::MulIOp::create(b, l, word, constIndex(b, l, 4));
  };
  SimtDecodeArgs decodeArgs{args.codes, args.codebook, wordOffset,
                            CodeWords{args.codeWords, 4, {}}};
  SmallVector<DecodedSimtCode> codes;
  if (failed(cast<SimtDecodeAttrInterface>(shape.quantizer)
                 .emitSimtDecode(builder, loc, decodeArgs, codes)))
    return failure();
  Value chunkBase = arith::AddIOp::create(
      builder, loc,
      arith::MulIOp::create(builder, loc, chunk,
                            constIndex(builder, loc, geometry.chunkCols)),
      arith::MulIOp::create(builder, loc, lane, constIndex(builder, loc, 8)));
  for (const DecodedSimtCode &code : codes) {
    Value column = arith::AddIOp::create(
        builder, loc, chunkBase,
        constIndex(builder, loc, 8 * lanes * code.group + code.offset));
    consume(code, column);
  }
  return success();
}

/// Returns sum + code * x[n][column...].
Value emitCodeFma(OpBuilder &builder, Location loc, Value x, int64_t n,
                  Value column, const DecodedSimtCode &code, Value sum) {
  if (code.second)
    return emitPairFma(builder, loc, x, constIndex(builder, loc, n), column,
                       DecodedPair{0, 0, code.first, code.second}, sum);
  auto contract = arith::FastMathFlagsAttr::get(builder.getContext(),
                                                arith::FastMathFlags::contract);
  Value xa = memref::LoadOp::create(
      builder, loc, x, ValueRange{constIndex(builder, loc, n), column});
  return arith::AddFOp::create(
      builder, loc, sum,
      arith::MulFOp::create(builder, loc, code.first, xa, contract), contract);
}

} // namespace

FailureOr<SmallVector<Value>> qpal::detail::emitSimtLaneLoop(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const SimtGeometry &geometry, const KernelArgs &args, Value row,
    Value chunk, Value laneBegin, Value laneEnd, Value laneStep, int64_t lanes,
    ValueRange sums) {
  auto loop =
      scf::ForOp::create(builder, loc, laneBegin, laneEnd, laneStep, sums);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(loop.getBody());
  SmallVector<Value> carried(loop.getRegionIterArgs());
  if (failed(emitSimtChunk(builder, loc, shape, geometry, args, row, chunk,
                           loop.getInductionVar(), lanes,
                           [&](const DecodedSimtCode &code, Value column) {
                             for (int64_t n = 0; n < shape.batch; ++n)
                               carried[n] =
                                   emitCodeFma(builder, loc, args.x, n, column,
                                               code, carried[n]);
                           })))
    return failure();
  scf::YieldOp::create(builder, loc, carried);
  return SmallVector<Value>(loop.getResults());
}

namespace {

/// Walks every chunk of `row` for the lanes [laneBegin, ...) step laneStep.
FailureOr<SmallVector<Value>>
emitRowSums(OpBuilder &builder, Location loc, const KernelShape &shape,
            const SimtGeometry &geometry, const KernelArgs &args, Value row,
            Value laneBegin, Value laneStep, ValueRange initial) {
  SmallVector<Value> sums(initial);
  if (geometry.fullChunks > 0) {
    auto chunks =
        scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                           constIndex(builder, loc, geometry.fullChunks),
                           constIndex(builder, loc, 1), sums);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(chunks.getBody());
    FailureOr<SmallVector<Value>> inner = emitSimtLaneLoop(
        builder, loc, shape, geometry, args, row, chunks.getInductionVar(),
        laneBegin, constIndex(builder, loc, kWarpLanes), laneStep, kWarpLanes,
        chunks.getRegionIterArgs());
    if (failed(inner))
      return failure();
    scf::YieldOp::create(builder, loc, *inner);
    sums.assign(chunks.getResults().begin(), chunks.getResults().end());
  }
  if (geometry.partialLanes > 0) {
    FailureOr<SmallVector<Value>> tail = emitSimtLaneLoop(
        builder, loc, shape, geometry, args, row,
        constIndex(builder, loc, geometry.fullChunks), laneBegin,
        constIndex(builder, loc, geometry.partialLanes), laneStep,
        geometry.partialLanes, sums);
    if (failed(tail))
      return failure();
    sums = *tail;
  }
  return sums;
}

} // namespace

bool qpal::isSimtKernel(const KernelShape &shape) {
  return shape.quantizer.getSpec().simtChunkColumns() != 0;
}

FailureOr<func::FuncOp>
qpal::detail::buildCpuSimtKernel(OpBuilder &builder, Location loc,
                                 const KernelShape &shape) {
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuKernelFunction(builder, loc, shape, getKernelName(shape, "cpu"));
  KernelArgs &args = kernel.args;
  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  SimtGeometry geometry(shape);
  auto rows = scf::ForOp::create(builder, loc, first, last,
                                 constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(rows.getBody());
  Value row = rows.getInductionVar();
  Value zero = arith::ConstantFloatOp::create(
      builder, loc, builder.getF32Type(), llvm::APFloat(0.0f));
  SmallVector<Value> initial(shape.batch, zero);
  FailureOr<SmallVector<Value>> sums = emitRowSums(
      builder, loc, shape, geometry, args, row, constIndex(builder, loc, 0),
      constIndex(builder, loc, 1), initial);
  if (failed(sums)) {
    kernel.function.erase();
    return failure();
  }
  Value scale = memref::LoadOp::create(builder, loc, args.scales, row);
  for (int64_t n = 0; n < shape.batch; ++n)
    emitScaledAccumulate(builder, loc, args.y, constIndex(builder, loc, n), row,
                         (*sums)[n], scale);
  return kernel.finish(builder, loc);
}

LogicalResult qpal::detail::emitSimtDequantChunk(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const SimtGeometry &geometry, const KernelArgs &args, Value row,
    Value chunk, int64_t lanes, Value weights) {
  auto laneLoop = scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                                     constIndex(builder, loc, lanes),
                                     constIndex(builder, loc, 1));
  OpBuilder::InsertionGuard laneGuard(builder);
  builder.setInsertionPointToStart(laneLoop.getBody());
  return emitSimtChunk(
      builder, loc, shape, geometry, args, row, chunk,
      laneLoop.getInductionVar(), lanes,
      [&](const DecodedSimtCode &code, Value column) {
        memref::StoreOp::create(builder, loc, code.first, weights,
                                ValueRange{row, column});
        if (code.second)
          memref::StoreOp::create(
              builder, loc, code.second, weights,
              ValueRange{row,
                         arith::AddIOp::create(builder, loc, column,
                                               constIndex(builder, loc, 1))});
      });
}

FailureOr<func::FuncOp>
qpal::detail::buildCpuSimtDequantKernel(OpBuilder &builder, Location loc,
                                        const KernelShape &shape,
                                        StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuDequantFunction(builder, loc, shape, name);
  KernelArgs &args = kernel.args;
  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  SimtGeometry geometry(shape);
  auto rows = scf::ForOp::create(builder, loc, first, last,
                                 constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(rows.getBody());
  Value row = rows.getInductionVar();
  auto storeChunk = [&](Value chunk, int64_t lanes) -> LogicalResult {
    return emitSimtDequantChunk(builder, loc, shape, geometry, args, row, chunk,
                                lanes, kernel.weights);
  };
  if (geometry.fullChunks > 0) {
    auto chunks =
        scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                           constIndex(builder, loc, geometry.fullChunks),
                           constIndex(builder, loc, 1));
    OpBuilder::InsertionGuard chunkGuard(builder);
    builder.setInsertionPointToStart(chunks.getBody());
    if (failed(storeChunk(chunks.getInductionVar(), kWarpLanes))) {
      kernel.function.erase();
      return failure();
    }
  }
  if (geometry.partialLanes > 0 &&
      failed(storeChunk(constIndex(builder, loc, geometry.fullChunks),
                        geometry.partialLanes))) {
    kernel.function.erase();
    return failure();
  }
  return kernel.finish(builder, loc);
}

FailureOr<gpu::GPUFuncOp>
qpal::detail::buildGpuSimtKernel(OpBuilder &builder, Location loc,
                                 const KernelShape &shape,
                                 const GpuLaunch &launch, StringRef name) {
  auto [function, kernelArgs] =
      createGpuKernelFunction(builder, loc, shape, launch, name);
  KernelArgs args = kernelArgs;
  Block &entry = function.getBody().front();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&entry);
  emitCodeWordViews(builder, loc, args);
  Value block = gpu::BlockIdOp::create(builder, loc, gpu::Dimension::x);
  Value thread = gpu::ThreadIdOp::create(builder, loc, gpu::Dimension::x);
  Value lane = arith::AndIOp::create(builder, loc, thread,
                                     constIndex(builder, loc, kWarpLanes - 1));
  Value warp =
      arith::ShRUIOp::create(builder, loc, thread, constIndex(builder, loc, 5));
  // One row per warp.
  Value row = arith::AddIOp::create(
      builder, loc,
      arith::MulIOp::create(builder, loc, block,
                            constIndex(builder, loc, launch.warps)),
      warp);
  SimtGeometry geometry(shape);
  FloatType f32 = builder.getF32Type();
  Value zero =
      arith::ConstantFloatOp::create(builder, loc, f32, llvm::APFloat(0.0f));
  SmallVector<Value> initial(shape.batch, zero);
  // Lane w walks its own codes: the lane loops run from w with step 32, so
  // each lane executes its iteration once per chunk (lanes past E of the
  // partial chunk skip it).
  FailureOr<SmallVector<Value>> sums =
      emitRowSums(builder, loc, shape, geometry, args, row, lane,
                  constIndex(builder, loc, kWarpLanes), initial);
  if (failed(sums)) {
    function.erase();
    return failure();
  }
  for (Value &sum : *sums)
    for (int32_t offset : {16, 8, 4, 2, 1}) {
      Value other = gpu::ShuffleOp::create(builder, loc, sum, offset,
                                           kWarpLanes, gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      sum = arith::AddFOp::create(builder, loc, sum, other);
    }
  Value first = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                                      lane, constIndex(builder, loc, 0));
  auto ifFirst = scf::IfOp::create(builder, loc, first);
  builder.setInsertionPointToStart(ifFirst.thenBlock());
  Value scale = memref::LoadOp::create(builder, loc, args.scales, row);
  for (int64_t n = 0; n < shape.batch; ++n)
    emitScaledAccumulate(builder, loc, args.y, constIndex(builder, loc, n), row,
                         (*sums)[n], scale);
  builder.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(builder, loc);
  return function;
}
