//===- CpuKernel.cpp - The host dequant-matmul kernel ---------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The lane-by-lane CPU kernel (`CpuDecode::Lanes`; the vector decode of all
// 32 lanes at once is in CpuVectorKernel.cpp) walks a range
// of 32-row supertiles; for each it decodes, supertile by supertile along K
// and lane by lane, the 16 weight pairs of every lane (the quantizer
// attribute emits the decode) and accumulates pair * x into a 32 x N stack
// accumulator, then adds scale * accumulator to y.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

FailureOr<func::FuncOp> qpal::buildCpuKernel(OpBuilder &builder, Location loc,
                                             const KernelShape &shape,
                                             const CpuKernelOptions &options) {
  if (failed(verifyKernelShape(loc, shape)))
    return failure();
  if (isSimtKernel(shape))
    return usesCpuVectorDecode(shape, options)
               ? buildCpuVectorSimtKernel(builder, loc, shape, options)
               : buildCpuSimtKernel(builder, loc, shape);
  if (usesCpuVectorDecode(shape, options))
    return buildCpuVectorKernel(builder, loc, shape, options);
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuKernelFunction(builder, loc, shape, getKernelName(shape, "cpu"));
  KernelArgs &args = kernel.args;

  int64_t batch = shape.batch;
  Value acc = memref::AllocaOp::create(
      builder, loc,
      MemRefType::get({batch, kSupertileDim}, builder.getF32Type()));
  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  Value zeroF = arith::ConstantFloatOp::create(
      builder, loc, builder.getF32Type(), llvm::APFloat(0.0f));

  auto supertileLoop = scf::ForOp::create(builder, loc, first, last,
                                          constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(supertileLoop.getBody());
  Value supertileRow = supertileLoop.getInductionVar();
  forEachAccumulator(builder, loc, batch, [&](Value n, Value r) {
    memref::StoreOp::create(builder, loc, zeroF, acc, ValueRange{n, r});
  });

  // Lane by lane, walk the supertile columns with the lane's 4 rows x N
  // partial sums in registers (loop-carried), then add them to the
  // accumulator: no memory traffic per decoded pair. For TCQ, two
  // supertiles per iteration give the out-of-order core two independent
  // trellis decodes: +18-30% on an EPYC (bench/results/cpu-kernels.md); the
  // shorter SQ/VQ decodes gained nothing measurable.
  unsigned unroll =
      shape.quantizer.getSpec().kernelFamily() == KernelFamily::TcqTensorCore
          ? 2
          : 1;
  auto laneLoop = scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                                     constIndex(builder, loc, kWarpLanes),
                                     constIndex(builder, loc, 1));
  {
    OpBuilder::InsertionGuard laneGuard(builder);
    builder.setInsertionPointToStart(laneLoop.getBody());
    Value lane = laneLoop.getInductionVar();
    FailureOr<SmallVector<Value>> laneSums = emitLaneColumnLoops(
        builder, loc, shape, args, supertileRow, lane,
        constIndex(builder, loc, 0), constIndex(builder, loc, 1),
        SmallVector<Value>(kRowSlots * batch, zeroF), unroll);
    if (failed(laneSums)) {
      kernel.function.erase();
      return failure();
    }
    SmallVector<Value> &sums = *laneSums;
    Value quad =
        arith::ShRUIOp::create(builder, loc, lane, constIndex(builder, loc, 2));
    for (unsigned slot = 0; slot < kRowSlots; ++slot) {
      Value row = arith::AddIOp::create(builder, loc, quad,
                                        constIndex(builder, loc, 8 * slot));
      for (int64_t n = 0; n < batch; ++n) {
        Value index = constIndex(builder, loc, n);
        Value old =
            memref::LoadOp::create(builder, loc, acc, ValueRange{index, row});
        memref::StoreOp::create(
            builder, loc,
            arith::AddFOp::create(builder, loc, old, sums[slot * batch + n]),
            acc, ValueRange{index, row});
      }
    }
  }

  // y[n][row] += scale[row] * acc[n][r].
  Value rowBase = arith::MulIOp::create(
      builder, loc, supertileRow, constIndex(builder, loc, kSupertileDim));
  forEachAccumulator(builder, loc, batch, [&](Value n, Value r) {
    Value row = arith::AddIOp::create(builder, loc, rowBase, r);
    Value partial = memref::LoadOp::create(builder, loc, acc, ValueRange{n, r});
    Value scale = memref::LoadOp::create(builder, loc, args.scales, row);
    emitScaledAccumulate(builder, loc, args.y, n, row, partial, scale);
  });

  return kernel.finish(builder, loc);
}

FailureOr<func::FuncOp>
qpal::buildCpuDequantKernel(OpBuilder &builder, Location loc,
                            const KernelShape &shape,
                            const CpuKernelOptions &options) {
  if (failed(verifyKernelShape(loc, shape)))
    return failure();
  std::string name = getCpuDequantKernelName(shape);
  if (isSimtKernel(shape))
    return usesCpuVectorDecode(shape, options)
               ? buildCpuVectorSimtDequantKernel(builder, loc, shape, options,
                                                 name)
               : buildCpuSimtDequantKernel(builder, loc, shape, name);
  if (usesCpuVectorDecode(shape, options))
    return buildCpuVectorDequantKernel(builder, loc, shape, options, name);
  OpBuilder::InsertionGuard guard(builder);
  CpuKernelFunction kernel =
      createCpuDequantFunction(builder, loc, shape, name);
  KernelArgs &args = kernel.args;
  auto [first, last] = emitRangeBounds(builder, loc, kernel.range);
  auto supertileLoop = scf::ForOp::create(builder, loc, first, last,
                                          constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(supertileLoop.getBody());
  Value supertileRow = supertileLoop.getInductionVar();
  Value rowBase = arith::MulIOp::create(
      builder, loc, supertileRow, constIndex(builder, loc, kSupertileDim));
  for (unsigned part = 0, e = shape.quantizer.getSpec().numColumnParts();
       part < e; ++part) {
    PartGeometry geometry(shape, part);
    OpBuilder::InsertionGuard partGuard(builder);
    auto columnLoop =
        scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                           constIndex(builder, loc, geometry.supertileCols),
                           constIndex(builder, loc, 1));
    builder.setInsertionPointToStart(columnLoop.getBody());
    Value supertileCol = columnLoop.getInductionVar();
    auto laneLoop = scf::ForOp::create(
        builder, loc, constIndex(builder, loc, 0),
        constIndex(builder, loc, kWarpLanes), constIndex(builder, loc, 1));
    builder.setInsertionPointToStart(laneLoop.getBody());
    Value lane = laneLoop.getInductionVar();
    SmallVector<DecodedPair> pairs;
    if (failed(emitSupertileLaneDecode(builder, loc, shape, geometry, args,
                                       supertileRow, supertileCol, lane,
                                       pairs))) {
      kernel.function.erase();
      return failure();
    }
    Value colBase = supertileColumnBase(builder, loc, geometry, supertileCol);
    for (const DecodedPair &pair : pairs) {
      Value row = arith::AddIOp::create(
          builder, loc, rowBase,
          emitPairRow(builder, loc, lane, pair.tile, pair.reg));
      Value col = arith::AddIOp::create(
          builder, loc, colBase,
          emitPairColumn(builder, loc, lane, pair.tile, pair.reg));
      Value next =
          arith::AddIOp::create(builder, loc, col, constIndex(builder, loc, 1));
      memref::StoreOp::create(builder, loc, pair.first, kernel.weights,
                              ValueRange{row, col});
      memref::StoreOp::create(builder, loc, pair.second, kernel.weights,
                              ValueRange{row, next});
    }
  }
  return kernel.finish(builder, loc);
}
