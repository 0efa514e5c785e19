//===- GpuKernel.cpp - The GPU dequant-matmul kernel ----------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// One block per (32-row supertile, K split); W warps per block split the K
// supertiles between them, and within a warp, lane w decodes exactly the 16
// weight pairs the tensor-core layout gives it, so the codes are read once,
// coalesced, by the lane that owns them. A lane's pairs fall on 4 rows; its
// partial sums stay in registers (loop-carried), are reduced across the 4
// lanes that share those rows with warp shuffles, then across warps through
// shared memory. With several K splits, blocks add into y atomically.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>

using namespace mlir;
using namespace qpal;
using namespace qpal::detail;

GpuLaunch qpal::chooseGpuLaunch(const KernelShape &shape, const GpuChip &chip) {
  GpuLaunch launch;
  if (isSimtKernel(shape)) {
    // One row per warp, 4 warps per block (the reference's CUDA-core
    // kernels); rows are plentiful enough that K is never split.
    launch.warps = shape.rows % 4 == 0 ? 4 : 1;
    launch.blockX = launch.warps * kWarpLanes;
    launch.gridX = shape.rows / launch.warps;
    return launch;
  }
  int64_t supertileRows = shape.rows / kSupertileDim;
  int64_t supertileCols =
      shape.cols / kSupertileDim / shape.quantizer.getNumColumnParts();
  launch.warps = std::clamp<int64_t>(supertileCols, 1, 8);
  launch.blockX = launch.warps * kWarpLanes;
  // Fill the chip: about two blocks per SM, splitting K when there are too
  // few row supertiles (k/v projections), never below one supertile column
  // per warp.
  int64_t wanted = 2 * static_cast<int64_t>(chip.smCount);
  int64_t maxSplits = std::max<int64_t>(1, supertileCols / launch.warps);
  launch.kSplits = std::clamp<int64_t>(
      (wanted + supertileRows - 1) / supertileRows, 1, maxSplits);
  launch.gridX = supertileRows * launch.kSplits;
  return launch;
}

FailureOr<gpu::GPUFuncOp> qpal::buildGpuKernel(OpBuilder &builder, Location loc,
                                               const KernelShape &shape,
                                               const GpuLaunch &launch,
                                               StringRef name) {
  if (failed(verifyKernelShape(loc, shape)))
    return failure();
  if (isSimtKernel(shape))
    return buildGpuSimtKernel(builder, loc, shape, launch, name);
  MLIRContext *context = builder.getContext();
  int64_t batch = shape.batch, warps = launch.warps;
  auto workgroup = gpu::AddressSpaceAttr::get(
      context, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto partialsType =
      MemRefType::get({warps, batch, kSupertileDim}, builder.getF32Type(),
                      MemRefLayoutAttrInterface(), workgroup);
  auto [function, args] = createGpuKernelFunction(
      builder, loc, shape, launch, name, TypeRange{partialsType});
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&function.getBody().front());
  Value partials = function.getWorkgroupAttributions().front();

  Value block = gpu::BlockIdOp::create(builder, loc, gpu::Dimension::x);
  Value thread = gpu::ThreadIdOp::create(builder, loc, gpu::Dimension::x);
  Value splits = constIndex(builder, loc, launch.kSplits);
  Value supertileRow = arith::DivUIOp::create(builder, loc, block, splits);
  Value split = arith::RemUIOp::create(builder, loc, block, splits);
  Value lane = arith::AndIOp::create(builder, loc, thread,
                                     constIndex(builder, loc, kWarpLanes - 1));
  Value warp =
      arith::ShRUIOp::create(builder, loc, thread, constIndex(builder, loc, 5));

  FloatType f32 = builder.getF32Type();
  Value zeroF =
      arith::ConstantFloatOp::create(builder, loc, f32, llvm::APFloat(0.0f));
  SmallVector<Value> sums(kRowSlots * batch, zeroF);

  // This block's warps take supertile columns split*W + warp, stepping by
  // all warps of all splits.
  Value start = arith::AddIOp::create(
      builder, loc,
      arith::MulIOp::create(builder, loc, split,
                            constIndex(builder, loc, warps)),
      warp);
  Value step = constIndex(builder, loc, launch.kSplits * warps);
  FailureOr<SmallVector<Value>> laneSums = emitLaneColumnLoops(
      builder, loc, shape, args, supertileRow, lane, start, step, sums);
  if (failed(laneSums)) {
    function.erase();
    return failure();
  }
  sums = std::move(*laneSums);

  // Lanes 4g..4g+3 hold partial sums of the same rows: reduce them.
  for (Value &sum : sums)
    for (int32_t offset : {1, 2}) {
      Value other = gpu::ShuffleOp::create(builder, loc, sum, offset,
                                           kWarpLanes, gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      sum = arith::AddFOp::create(builder, loc, sum, other);
    }
  Value quad =
      arith::ShRUIOp::create(builder, loc, lane, constIndex(builder, loc, 2));
  Value leader = arith::CmpIOp::create(
      builder, loc, arith::CmpIPredicate::eq,
      arith::AndIOp::create(builder, loc, lane, constIndex(builder, loc, 3)),
      constIndex(builder, loc, 0));
  auto ifLeader = scf::IfOp::create(builder, loc, leader);
  {
    OpBuilder::InsertionGuard ifGuard(builder);
    builder.setInsertionPointToStart(ifLeader.thenBlock());
    for (unsigned slot = 0; slot < kRowSlots; ++slot) {
      Value row = arith::AddIOp::create(builder, loc, quad,
                                        constIndex(builder, loc, 8 * slot));
      for (int64_t n = 0; n < batch; ++n)
        memref::StoreOp::create(
            builder, loc, sums[slot * batch + n], partials,
            ValueRange{warp, constIndex(builder, loc, n), row});
    }
  }
  gpu::BarrierOp::create(builder, loc);

  // Threads sum the warps' partials of one (n, row) each and add
  // scale * sum into y.
  auto outputs = scf::ForOp::create(
      builder, loc, thread, constIndex(builder, loc, batch * kSupertileDim),
      constIndex(builder, loc, launch.blockX));
  {
    OpBuilder::InsertionGuard outGuard(builder);
    builder.setInsertionPointToStart(outputs.getBody());
    Value index = outputs.getInductionVar();
    Value n = arith::DivUIOp::create(builder, loc, index,
                                     constIndex(builder, loc, kSupertileDim));
    Value r = arith::RemUIOp::create(builder, loc, index,
                                     constIndex(builder, loc, kSupertileDim));
    Value total = zeroF;
    for (int64_t w = 0; w < warps; ++w)
      total = arith::AddFOp::create(
          builder, loc, total,
          memref::LoadOp::create(
              builder, loc, partials,
              ValueRange{constIndex(builder, loc, w), n, r}));
    Value row = arith::AddIOp::create(
        builder, loc,
        arith::MulIOp::create(builder, loc, supertileRow,
                              constIndex(builder, loc, kSupertileDim)),
        r);
    Value scale = memref::LoadOp::create(builder, loc, args.scales, row);
    if (launch.kSplits > 1)
      memref::AtomicRMWOp::create(
          builder, loc, arith::AtomicRMWKind::addf,
          arith::MulFOp::create(builder, loc, total, scale), args.y,
          ValueRange{n, row});
    else
      emitScaledAccumulate(builder, loc, args.y, n, row, total, scale);
  }
  gpu::ReturnOp::create(builder, loc);
  return function;
}
