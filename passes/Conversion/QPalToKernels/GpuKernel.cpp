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
// coalesced, by the lane that owns them. The codebook is first copied to
// shared memory when it fits.
//
// With a batch of at most 8 the pairs are, as decoded, the A fragments of
// four `mma.sync.m16n8k16` per supertile (f16 x f16 -> f32); the activations
// are the B fragments, one batch row per group of 4 lanes. Otherwise a lane
// accumulates its pairs with FMAs and the 4 lanes that share rows reduce
// them with shuffles. Either way the warps' partial sums meet in shared
// memory, and with several K splits, blocks add into y atomically.
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

/// The largest codebook (as f32 values) copied to shared memory, the shared
/// memory the replicated packed pair table may take, the most the warps'
/// partial sums may take, and the static shared memory of a block (48 KiB,
/// less room for the compiler's own).
static constexpr uint64_t kSharedCodebookBytes = 32 * 1024;
static constexpr uint64_t kPackedTableBytes = 40 * 1024;
static constexpr int64_t kPartialsBytes = 32 * 1024;
static constexpr uint64_t kStaticSharedBytes = 46 * 1024;

GpuLaunch qpal::chooseGpuLaunch(const KernelShape &shape, const GpuChip &chip,
                                const GpuLaunchOptions &options) {
  GpuLaunch launch;
  if (isSimtKernel(shape)) {
    // One row per warp, 4 warps per block (the reference's CUDA-core
    // kernels); rows are plentiful enough that K is never split.
    launch.warps = shape.rows % 4 == 0 ? 4 : 1;
    launch.blockX = launch.warps * kWarpLanes;
    launch.gridX = shape.rows / launch.warps;
    return launch;
  }
  launch.mma = options.mma && shape.batch <= kMaxMmaBatch;
  // Measured on an H100 (bench/results/gpu-kernels-h100.md): decoding two
  // supertiles per iteration raised registers and slowed TCQ by up to 35%,
  // and gained SQ/VQ nothing.
  launch.unroll = options.unroll ? options.unroll : 1;
  launch.vectorSegments = options.vectorSegments;
  if (options.blocksPerSm)
    launch.blocksPerSm = options.blocksPerSm;
  int64_t supertileRows = shape.rows / kSupertileDim;
  int64_t supertileCols =
      shape.cols / kSupertileDim / shape.quantizer.getSpec().numColumnParts();
  // The warps' partial sums (warps x batch x 32 f32) share the block's
  // static shared memory with the tables: large batches get fewer warps.
  int64_t partialsPerWarp = shape.batch * kSupertileDim * 4;
  launch.warps = std::clamp<int64_t>(
      std::min<int64_t>(supertileCols, kPartialsBytes / partialsPerWarp), 1, 8);
  launch.blockX = launch.warps * kWarpLanes;
  uint64_t tableBudget =
      kStaticSharedBytes -
      std::min<uint64_t>(kStaticSharedBytes, launch.warps * partialsPerWarp);
  uint64_t tableBytes = shape.quantizer.getSpec().packedPairEntries() * 4;
  launch.packedPairs =
      launch.mma && options.packedPairs && tableBytes > 0 &&
      tableBytes <= std::min(kSharedCodebookBytes, tableBudget);
  if (launch.packedPairs) {
    // As many copies as fit the shared-memory budget, up to one per lane.
    uint64_t budget = std::min(kPackedTableBytes, tableBudget);
    unsigned fit = 1;
    while (fit < kWarpLanes && 2 * fit * tableBytes <= budget)
      fit *= 2;
    launch.packedReplicas =
        options.packedReplicas ? std::min(options.packedReplicas, fit) : fit;
  }
  launch.sharedCodebook =
      !launch.packedPairs && shape.quantizer.getSpec().codebookBytes() * 2 <=
                                 std::min(kSharedCodebookBytes, tableBudget);
  // Fill the chip: about `blocksPerSm` blocks per SM, splitting K when there
  // are too few row supertiles (k/v projections), never below one supertile
  // column per warp.
  int64_t wanted = launch.blocksPerSm * static_cast<int64_t>(chip.smCount);
  int64_t maxSplits = std::max<int64_t>(1, supertileCols / launch.warps);
  launch.kSplits = std::clamp<int64_t>(
      (wanted + supertileRows - 1) / supertileRows, 1, maxSplits);
  launch.gridX = supertileRows * launch.kSplits;
  return launch;
}

/// Reduces the FMA sums of lanes 4g..4g+3 (partial sums of the same rows)
/// with shuffles and stores them as the warp's partials.
static void storeFmaPartials(OpBuilder &builder, Location loc, int64_t batch,
                             Value lane, Value warp, Value partials,
                             MutableArrayRef<Value> sums) {
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
  bool mma = launch.mma;
  if (mma && batch > kMaxMmaBatch)
    return emitError(loc) << "mma.sync kernels take a batch of at most "
                          << kMaxMmaBatch << ", got " << batch;
  auto workgroup = gpu::AddressSpaceAttr::get(
      context, gpu::GPUDialect::getWorkgroupAddressSpace());
  FloatType f32 = builder.getF32Type();
  auto partialsType = MemRefType::get({warps, batch, kSupertileDim}, f32,
                                      MemRefLayoutAttrInterface(), workgroup);
  SmallVector<Type> workgroupTypes{partialsType};
  int64_t codebookValues = KernelTypes(builder, shape).codebook.getDimSize(0);
  int64_t packedEntries = shape.quantizer.getSpec().packedPairEntries();
  if (launch.packedPairs && (!mma || packedEntries == 0))
    return emitError(loc) << shape.quantizer.getReferenceName()
                          << " has no packed pair table for mma.sync";
  unsigned replicas = launch.packedPairs ? launch.packedReplicas : 1;
  if (launch.packedPairs && (replicas == 0 || replicas > kWarpLanes ||
                             (replicas & (replicas - 1)) != 0))
    return emitError(loc) << "packed pair replicas must be a power of 2 up to "
                          << kWarpLanes << ", got " << replicas;
  if (launch.packedPairs)
    workgroupTypes.push_back(
        MemRefType::get({packedEntries * replicas}, builder.getI32Type(),
                        MemRefLayoutAttrInterface(), workgroup));
  else if (launch.sharedCodebook)
    workgroupTypes.push_back(MemRefType::get(
        {codebookValues}, f32, MemRefLayoutAttrInterface(), workgroup));
  auto [function, kernelArgs] = createGpuKernelFunction(
      builder, loc, shape, launch, name, workgroupTypes);
  KernelArgs args = kernelArgs;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&function.getBody().front());
  Value partials = function.getWorkgroupAttributions().front();
  emitCodeWordViews(builder, loc, args);

  Value block = gpu::BlockIdOp::create(builder, loc, gpu::Dimension::x);
  Value thread = gpu::ThreadIdOp::create(builder, loc, gpu::Dimension::x);
  Value splits = constIndex(builder, loc, launch.kSplits);
  Value supertileRow = arith::DivUIOp::create(builder, loc, block, splits);
  Value split = arith::RemUIOp::create(builder, loc, block, splits);
  Value lane = arith::AndIOp::create(builder, loc, thread,
                                     constIndex(builder, loc, kWarpLanes - 1));
  Value warp =
      arith::ShRUIOp::create(builder, loc, thread, constIndex(builder, loc, 5));

  // The block's threads copy the codebook to shared memory; the decode's
  // lookups then stay on the SM.
  KernelArgs decodeArgs = args;
  PackedPairTable packedPairs;
  if (launch.packedPairs) {
    // Each entry is computed once and stored in all its copies.
    packedPairs.table = function.getWorkgroupAttributions()[1];
    packedPairs.replicas = replicas;
    emitBlockStridedLoop(
        builder, loc, thread, packedEntries, launch.blockX, [&](Value entry) {
          Value packed =
              cast<PackedPairTableAttrInterface>(shape.quantizer)
                  .emitPackedPairEntry(builder, loc, args.codebook, entry);
          Value first = arith::MulIOp::create(
              builder, loc, entry, constIndex(builder, loc, replicas));
          for (unsigned copy = 0; copy < replicas; ++copy)
            memref::StoreOp::create(
                builder, loc, packed, packedPairs.table,
                copy == 0
                    ? first
                    : arith::AddIOp::create(builder, loc, first,
                                            constIndex(builder, loc, copy))
                          .getResult());
        });
    gpu::BarrierOp::create(builder, loc);
    if (replicas > 1)
      packedPairs.replica = arith::AndIOp::create(
          builder, loc, lane, constIndex(builder, loc, replicas - 1));
  } else if (launch.sharedCodebook) {
    Value shared = function.getWorkgroupAttributions()[1];
    emitBlockStridedLoop(
        builder, loc, thread, codebookValues, launch.blockX, [&](Value i) {
          memref::StoreOp::create(
              builder, loc,
              memref::LoadOp::create(builder, loc, args.codebook, i), shared,
              i);
        });
    gpu::BarrierOp::create(builder, loc);
    decodeArgs.codebook = shared;
  }

  Value zeroF =
      arith::ConstantFloatOp::create(builder, loc, f32, llvm::APFloat(0.0f));
  SmallVector<Value> sums(mma ? getMmaSumCount(batch) : kRowSlots * batch,
                          zeroF);

  // This block's warps take supertile columns split*W + warp, stepping by
  // all warps of all splits.
  Value start = arith::AddIOp::create(
      builder, loc,
      arith::MulIOp::create(builder, loc, split,
                            constIndex(builder, loc, warps)),
      warp);
  Value step = constIndex(builder, loc, launch.kSplits * warps);
  auto mmaAccumulate = [&](OpBuilder &b, Location l,
                           ArrayRef<DecodedPair> pairs, Value colBase,
                           MutableArrayRef<Value> carried) {
    emitMmaSupertile(b, l, shape, args.x, lane, pairs, colBase, carried);
  };
  FailureOr<SmallVector<Value>> laneSums = emitLaneColumnLoops(
      builder, loc, shape, decodeArgs, supertileRow, lane, start, step, sums,
      launch.unroll, mma ? SupertileAccumulate(mmaAccumulate) : nullptr,
      packedPairs, launch.vectorSegments);
  if (failed(laneSums)) {
    function.erase();
    return failure();
  }
  sums = std::move(*laneSums);

  if (mma) {
    // Accumulator register 8*t + 4*i1 + c is row 16*i1 + lane/4 + 8*(c/2)
    // of activation row 8*t + 2*(lane%4) + c%2; rows past the batch are
    // dropped.
    Value group =
        arith::ShRUIOp::create(builder, loc, lane, constIndex(builder, loc, 2));
    Value quad =
        arith::AndIOp::create(builder, loc, lane, constIndex(builder, loc, 3));
    Value firstN =
        arith::MulIOp::create(builder, loc, quad, constIndex(builder, loc, 2));
    for (unsigned r = 0, e = sums.size(); r < e; ++r) {
      unsigned tile = r / 8, i1 = (r % 8) / 4, c = r % 4;
      Value row = arith::AddIOp::create(
          builder, loc, group, constIndex(builder, loc, 16 * i1 + 8 * (c / 2)));
      Value n = arith::AddIOp::create(
          builder, loc, firstN, constIndex(builder, loc, 8 * tile + c % 2));
      auto store = [&](OpBuilder &b) {
        memref::StoreOp::create(b, loc, sums[r], partials,
                                ValueRange{warp, n, row});
      };
      if (batch >= 8 * (tile + 1)) {
        store(builder);
        continue;
      }
      Value inBatch =
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult, n,
                                constIndex(builder, loc, batch));
      auto ifInBatch = scf::IfOp::create(builder, loc, inBatch);
      OpBuilder::InsertionGuard ifGuard(builder);
      builder.setInsertionPointToStart(ifInBatch.thenBlock());
      store(builder);
    }
  } else {
    storeFmaPartials(builder, loc, batch, lane, warp, partials, sums);
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
