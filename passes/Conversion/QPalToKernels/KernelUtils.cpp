//===- KernelUtils.cpp - Pieces shared by the CPU and GPU kernels ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
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

KernelTypes::KernelTypes(OpBuilder &builder, const KernelShape &shape,
                         Attribute memorySpace) {
  Type f32 = builder.getF32Type();
  auto layout = MemRefLayoutAttrInterface();
  x = MemRefType::get({shape.batch, shape.cols}, f32, layout, memorySpace);
  // Bare-pointer calling conventions need static shapes: the code buffer and
  // the codebook are sized by the quantizer.
  QuantizerSpec spec = shape.quantizer.getSpec();
  auto codeBytes = static_cast<int64_t>(spec.codeBytes(shape.rows, shape.cols));
  auto codebookValues = static_cast<int64_t>(spec.codebookBytes() / 2);
  codes =
      MemRefType::get({codeBytes}, builder.getI8Type(), layout, memorySpace);
  codebook = MemRefType::get({codebookValues}, f32, layout, memorySpace);
  scales = MemRefType::get({shape.rows}, f32, layout, memorySpace);
  y = MemRefType::get({shape.batch, shape.rows}, f32, layout, memorySpace);
}

PartGeometry::PartGeometry(const KernelShape &shape, unsigned part)
    : part(part) {
  unsigned parts = shape.quantizer.getNumColumnParts();
  int64_t partCols = shape.cols / parts;
  supertileCols = partCols / kSupertileDim;
  colOffset = part * partCols;
  byteOffset = shape.quantizer.getPartByteOffset(shape.rows, shape.cols, part);
  segmentBytes = shape.quantizer.getLaneSegmentBytes(part);
}

Value qpal::detail::constIndex(OpBuilder &builder, Location loc,
                               int64_t value) {
  return arith::ConstantIndexOp::create(builder, loc, value);
}

std::pair<Value, Value>
qpal::detail::emitRangeBounds(OpBuilder &builder, Location loc, Value range) {
  auto at = [&](int64_t i) -> Value {
    return arith::IndexCastOp::create(
        builder, loc, builder.getIndexType(),
        memref::LoadOp::create(builder, loc, range,
                               constIndex(builder, loc, i)));
  };
  return {at(0), at(1)};
}

void qpal::detail::emitScaledAccumulate(OpBuilder &builder, Location loc,
                                        Value y, Value n, Value row,
                                        Value partial, Value scale) {
  Value old = memref::LoadOp::create(builder, loc, y, ValueRange{n, row});
  Value updated = arith::AddFOp::create(
      builder, loc, old, arith::MulFOp::create(builder, loc, partial, scale));
  memref::StoreOp::create(builder, loc, updated, y, ValueRange{n, row});
}

void qpal::detail::forEachBatchRow(OpBuilder &builder, Location loc,
                                   int64_t batch,
                                   function_ref<void(Value)> body) {
  if (batch <= 8) {
    for (int64_t n = 0; n < batch; ++n)
      body(constIndex(builder, loc, n));
    return;
  }
  auto loop = scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                                 constIndex(builder, loc, batch),
                                 constIndex(builder, loc, 1));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

void qpal::detail::forEachAccumulator(OpBuilder &builder, Location loc,
                                      int64_t batch,
                                      function_ref<void(Value, Value)> body) {
  auto outer = scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                                  constIndex(builder, loc, batch),
                                  constIndex(builder, loc, 1));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(outer.getBody());
  auto inner = scf::ForOp::create(builder, loc, constIndex(builder, loc, 0),
                                  constIndex(builder, loc, kSupertileDim),
                                  constIndex(builder, loc, 1));
  builder.setInsertionPointToStart(inner.getBody());
  body(outer.getInductionVar(), inner.getInductionVar());
}

LogicalResult qpal::detail::emitSupertileLaneDecode(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const PartGeometry &geometry, const KernelArgs &args, Value supertileRow,
    Value supertileCol, Value lane, SmallVectorImpl<DecodedPair> &pairs) {
  // Lane segments are laid out supertile-row-major, then lane by lane.
  Value supertile = arith::AddIOp::create(
      builder, loc,
      arith::MulIOp::create(builder, loc, supertileRow,
                            constIndex(builder, loc, geometry.supertileCols)),
      supertileCol);
  Value laneBase = arith::MulIOp::create(builder, loc, supertile,
                                         constIndex(builder, loc, kWarpLanes));
  auto segmentOffset = [&](OpBuilder &b, Location l, unsigned delta) -> Value {
    Value neighbour = lane;
    if (delta != 0)
      neighbour = arith::AndIOp::create(
          b, l, arith::AddIOp::create(b, l, lane, constIndex(b, l, delta)),
          constIndex(b, l, kWarpLanes - 1));
    Value segment = arith::AddIOp::create(b, l, laneBase, neighbour);
    Value bytes = arith::MulIOp::create(
        b, l, segment, constIndex(b, l, geometry.segmentBytes));
    if (geometry.byteOffset == 0)
      return bytes;
    return arith::AddIOp::create(
        b, l, bytes,
        constIndex(b, l, static_cast<int64_t>(geometry.byteOffset)));
  };
  LaneDecodeArgs decodeArgs;
  decodeArgs.codes = args.codes;
  decodeArgs.codebook = args.codebook;
  decodeArgs.columnPart = geometry.part;
  decodeArgs.segmentOffset = segmentOffset;
  if (failed(shape.quantizer.emitLaneDecode(builder, loc, decodeArgs, pairs)))
    return failure();
  if (pairs.size() != kPairsPerLane)
    return emitError(loc) << shape.quantizer.getReferenceName() << " decoded "
                          << pairs.size() << " pairs per lane, expected "
                          << kPairsPerLane;
  return success();
}

Value qpal::detail::supertileColumnBase(OpBuilder &builder, Location loc,
                                        const PartGeometry &geometry,
                                        Value supertileCol) {
  Value base = arith::MulIOp::create(builder, loc, supertileCol,
                                     constIndex(builder, loc, kSupertileDim));
  if (geometry.colOffset == 0)
    return base;
  return arith::AddIOp::create(builder, loc, base,
                               constIndex(builder, loc, geometry.colOffset));
}

Value qpal::detail::emitPairFma(OpBuilder &builder, Location loc, Value x,
                                Value n, Value col, const DecodedPair &pair,
                                Value sum) {
  auto contract = arith::FastMathFlagsAttr::get(builder.getContext(),
                                                arith::FastMathFlags::contract);
  Value next =
      arith::AddIOp::create(builder, loc, col, constIndex(builder, loc, 1));
  Value xa = memref::LoadOp::create(builder, loc, x, ValueRange{n, col});
  Value xb = memref::LoadOp::create(builder, loc, x, ValueRange{n, next});
  Value product = arith::AddFOp::create(
      builder, loc,
      arith::MulFOp::create(builder, loc, pair.first, xa, contract),
      arith::MulFOp::create(builder, loc, pair.second, xb, contract), contract);
  return arith::AddFOp::create(builder, loc, sum, product, contract);
}

FailureOr<SmallVector<Value>> qpal::detail::emitLaneColumnLoops(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const KernelArgs &args, Value supertileRow, Value lane, Value begin,
    Value step, ValueRange initial) {
  SmallVector<Value> sums(initial);
  for (unsigned part = 0, e = shape.quantizer.getNumColumnParts(); part < e;
       ++part) {
    PartGeometry geometry(shape, part);
    auto loop = scf::ForOp::create(
        builder, loc, begin, constIndex(builder, loc, geometry.supertileCols),
        step, sums);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(loop.getBody());
    Value supertileCol = loop.getInductionVar();
    SmallVector<Value> carried(loop.getRegionIterArgs());
    SmallVector<DecodedPair> pairs;
    if (failed(emitSupertileLaneDecode(builder, loc, shape, geometry, args,
                                       supertileRow, supertileCol, lane,
                                       pairs)))
      return failure();
    Value colBase = supertileColumnBase(builder, loc, geometry, supertileCol);
    for (const DecodedPair &pair : pairs) {
      Value col = arith::AddIOp::create(
          builder, loc, colBase,
          emitPairColumn(builder, loc, lane, pair.tile, pair.reg));
      unsigned slot = pairRowSlot(pair);
      for (int64_t n = 0; n < shape.batch; ++n) {
        Value &sum = carried[slot * shape.batch + n];
        sum = emitPairFma(builder, loc, args.x, constIndex(builder, loc, n),
                          col, pair, sum);
      }
    }
    scf::YieldOp::create(builder, loc, carried);
    sums.assign(loop.getResults().begin(), loop.getResults().end());
  }
  return sums;
}

std::pair<gpu::GPUFuncOp, KernelArgs> qpal::detail::createGpuKernelFunction(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const GpuLaunch &launch, StringRef name, TypeRange workgroup) {
  KernelTypes types(builder, shape);
  auto function = gpu::GPUFuncOp::create(
      builder, loc, name,
      builder.getFunctionType(
          {types.x, types.codes, types.codebook, types.scales, types.y}, {}),
      workgroup);
  function->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                    builder.getUnitAttr());
  function.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
      {static_cast<int32_t>(launch.blockX), 1, 1}));
  function.setKnownGridSizeAttr(
      builder.getDenseI32ArrayAttr({static_cast<int32_t>(launch.gridX), 1, 1}));
  Block &entry = function.getBody().front();
  KernelArgs args{entry.getArgument(0), entry.getArgument(1),
                  entry.getArgument(2), entry.getArgument(3),
                  entry.getArgument(4)};
  return {function, args};
}
