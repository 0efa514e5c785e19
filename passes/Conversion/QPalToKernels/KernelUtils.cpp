//===- KernelUtils.cpp - Pieces shared by the CPU and GPU kernels ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

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

KernelArgs qpal::detail::matmulKernelArgs(Block &entry) {
  KernelArgs args;
  args.x = entry.getArgument(0);
  args.codes = entry.getArgument(1);
  args.codebook = entry.getArgument(2);
  args.scales = entry.getArgument(3);
  args.y = entry.getArgument(4);
  return args;
}

KernelArgs qpal::detail::dequantKernelArgs(Block &entry) {
  KernelArgs args;
  args.codes = entry.getArgument(0);
  args.codebook = entry.getArgument(1);
  return args;
}

void qpal::detail::emitBlockStridedLoop(OpBuilder &builder, Location loc,
                                        Value thread, int64_t count,
                                        int64_t blockSize,
                                        function_ref<void(Value)> body) {
  auto loop =
      scf::ForOp::create(builder, loc, thread, constIndex(builder, loc, count),
                         constIndex(builder, loc, blockSize));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

void qpal::detail::emitCodeWordViews(OpBuilder &builder, Location loc,
                                     KernelArgs &args) {
  auto codesType = cast<MemRefType>(args.codes.getType());
  int64_t bytes = codesType.getDimSize(0);
  Value zero = constIndex(builder, loc, 0);
  auto view = [&](unsigned width) -> Value {
    if (bytes < width / 8)
      return Value();
    auto type = MemRefType::get(
        {bytes / (width / 8)}, builder.getIntegerType(width),
        MemRefLayoutAttrInterface(), codesType.getMemorySpace());
    return memref::ViewOp::create(builder, loc, type, args.codes, zero,
                                  ValueRange());
  };
  args.codeHalves = view(16);
  args.codeWords = view(32);
}

PartGeometry::PartGeometry(const KernelShape &shape, unsigned part)
    : part(part) {
  unsigned parts = shape.quantizer.getSpec().numColumnParts();
  int64_t partCols = shape.cols / parts;
  supertileCols = partCols / kSupertileDim;
  colOffset = part * partCols;
  byteOffset =
      shape.quantizer.getSpec().partByteOffset(shape.rows, shape.cols, part);
  segmentBytes = shape.quantizer.getSpec().laneSegmentBytes(part);
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
    Value supertileCol, Value lane, SmallVectorImpl<DecodedPair> &pairs,
    const PackedPairTable &packedPairs, bool vectorSegments) {
  // Lane segments are laid out supertile-row-major, then lane by lane.
  Value supertile = arith::AddIOp::create(
      builder, loc,
      arith::MulIOp::create(builder, loc, supertileRow,
                            constIndex(builder, loc, geometry.supertileCols)),
      supertileCol);
  Value laneBase = arith::MulIOp::create(builder, loc, supertile,
                                         constIndex(builder, loc, kWarpLanes));
  Value ownSegment;
  auto segmentOffset = [&](OpBuilder &b, Location l, unsigned delta) -> Value {
    // The lane's own segment offset is one value, so that the decode's
    // reads of it can be matched with the words loaded ahead.
    if (delta == 0 && ownSegment)
      return ownSegment;
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
  decodeArgs.packedPairs = packedPairs;
  // Segments start at multiples of their size past the part's offset: read
  // them by the widest word that alignment allows.
  uint64_t alignment = geometry.segmentBytes | geometry.byteOffset;
  if (alignment % 4 == 0 && args.codeWords)
    decodeArgs.codeWords = CodeWords{args.codeWords, 4, {}};
  else if (alignment % 2 == 0 && args.codeHalves)
    decodeArgs.codeWords = CodeWords{args.codeHalves, 2, {}};
  // With vectorSegments, the lane's own segment is loaded up front with
  // 8- or 16-byte vector loads (one memory transaction per lane instead of
  // one per word); the decode then reads those words from registers.
  unsigned vectorBytes = 16;
  while (vectorBytes > 4 && alignment % vectorBytes != 0)
    vectorBytes /= 2;
  if (vectorSegments && decodeArgs.codeWords.bytes == 4 && vectorBytes >= 8) {
    ownSegment = segmentOffset(builder, loc, 0);
    Value wordBase = arith::DivUIOp::create(builder, loc, ownSegment,
                                            constIndex(builder, loc, 4));
    unsigned perLoad = vectorBytes / 4;
    auto vectorType = VectorType::get({perLoad}, builder.getI32Type());
    CachedSegment &cached = decodeArgs.codeWords.cached.emplace_back();
    cached.offset = ownSegment;
    for (unsigned word = 0; word < geometry.segmentBytes / 4; word += perLoad) {
      Value index = arith::AddIOp::create(builder, loc, wordBase,
                                          constIndex(builder, loc, word));
      Value loaded = vector::LoadOp::create(
          builder, loc, vectorType, args.codeWords, ValueRange{index},
          /*nontemporal=*/false, llvm::MaybeAlign(vectorBytes));
      for (unsigned k = 0; k < perLoad; ++k)
        cached.words.push_back(
            vector::ExtractOp::create(builder, loc, loaded, k));
    }
  }
  return emitLaneDecodeChecked(builder, loc, shape, decodeArgs, pairs);
}

LogicalResult qpal::detail::emitLaneDecodeChecked(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const LaneDecodeArgs &decodeArgs, SmallVectorImpl<DecodedPair> &pairs) {
  if (failed(cast<LaneDecodeAttrInterface>(shape.quantizer)
                 .emitLaneDecode(builder, loc, decodeArgs, pairs)))
    return failure();
  if (pairs.size() != kPairsPerLane)
    return emitError(loc) << shape.quantizer.getReferenceName() << " decoded "
                          << pairs.size() << " pairs per lane, expected "
                          << kPairsPerLane;
  return success();
}

/// Creates `name` with `inputs` and moves the builder into its entry.
static std::pair<func::FuncOp, Block *>
createCpuFunction(OpBuilder &builder, Location loc, StringRef name,
                  ArrayRef<Type> inputs) {
  auto function = func::FuncOp::create(builder, loc, name,
                                       builder.getFunctionType(inputs, {}));
  // Kernels take bare pointers whichever convention their callers use.
  function->setAttr(kBarePtrAttrName, builder.getUnitAttr());
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  return {function, entry};
}

CpuKernelFunction
qpal::detail::createCpuKernelFunction(OpBuilder &builder, Location loc,
                                      const KernelShape &shape,
                                      StringRef name) {
  KernelTypes types(builder, shape);
  auto rangeType = MemRefType::get({2}, builder.getI64Type());
  CpuKernelFunction kernel;
  std::tie(kernel.function, kernel.entry) = createCpuFunction(
      builder, loc, name,
      {types.x, types.codes, types.codebook, types.scales, types.y, rangeType});
  kernel.args = matmulKernelArgs(*kernel.entry);
  emitCodeWordViews(builder, loc, kernel.args);
  kernel.range = kernel.entry->getArgument(5);
  return kernel;
}

CpuKernelFunction
qpal::detail::createCpuDequantFunction(OpBuilder &builder, Location loc,
                                       const KernelShape &shape,
                                       StringRef name) {
  KernelTypes types(builder, shape);
  auto weightType =
      MemRefType::get({shape.rows, shape.cols}, builder.getF32Type());
  auto rangeType = MemRefType::get({2}, builder.getI64Type());
  CpuKernelFunction kernel;
  std::tie(kernel.function, kernel.entry) = createCpuFunction(
      builder, loc, name, {types.codes, types.codebook, weightType, rangeType});
  kernel.args = dequantKernelArgs(*kernel.entry);
  emitCodeWordViews(builder, loc, kernel.args);
  kernel.weights = kernel.entry->getArgument(2);
  kernel.range = kernel.entry->getArgument(3);
  return kernel;
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

/// The default accumulation: kRowSlots x batch FMA dot products.
static void emitFmaSupertile(OpBuilder &builder, Location loc,
                             const KernelShape &shape, Value x, Value lane,
                             ArrayRef<DecodedPair> pairs, Value colBase,
                             MutableArrayRef<Value> sums) {
  for (const DecodedPair &pair : pairs) {
    Value col = arith::AddIOp::create(
        builder, loc, colBase,
        emitPairColumn(builder, loc, lane, pair.tile, pair.reg));
    unsigned slot = pairRowSlot(pair);
    for (int64_t n = 0; n < shape.batch; ++n) {
      Value &sum = sums[slot * shape.batch + n];
      sum = emitPairFma(builder, loc, x, constIndex(builder, loc, n), col, pair,
                        sum);
    }
  }
}

/// Packs two f32 values into the f16x2 register of an mma fragment.
static Value packHalves(OpBuilder &builder, Location loc, Value first,
                        Value second) {
  Type f16 = builder.getF16Type();
  auto pairType = VectorType::get({2}, f16);
  Value packed = LLVM::PoisonOp::create(builder, loc, pairType);
  for (auto [index, value] : llvm::enumerate(ValueRange{first, second})) {
    Value half = arith::TruncFOp::create(builder, loc, f16, value);
    Value position = LLVM::ConstantOp::create(
        builder, loc, builder.getI32Type(),
        builder.getI32IntegerAttr(static_cast<int32_t>(index)));
    packed =
        LLVM::InsertElementOp::create(builder, loc, packed, half, position);
  }
  return packed;
}

void qpal::detail::emitMmaSupertile(OpBuilder &builder, Location loc,
                                    const KernelShape &shape, Value x,
                                    Value lane, ArrayRef<DecodedPair> pairs,
                                    Value colBase,
                                    MutableArrayRef<Value> sums) {
  assert(shape.batch <= kMaxMmaBatch &&
         sums.size() == getMmaSumCount(shape.batch) && "m16n8 tiles");
  unsigned nTiles = sums.size() / 8;
  Value group =
      arith::ShRUIOp::create(builder, loc, lane, constIndex(builder, loc, 2));
  Value quad =
      arith::AndIOp::create(builder, loc, lane, constIndex(builder, loc, 3));
  Value laneCol = arith::AddIOp::create(
      builder, loc, colBase,
      arith::MulIOp::create(builder, loc, quad, constIndex(builder, loc, 2)));
  // A fragments: pair (q = 2*j1 + i1, j) is register j of tile q.
  const DecodedPair *byTile[4][4] = {};
  for (const DecodedPair &pair : pairs)
    byTile[pair.tile][pair.reg] = &pair;
  SmallVector<Value, 4> aFragments[2][2];
  for (unsigned i1 = 0; i1 < 2; ++i1)
    for (unsigned j1 = 0; j1 < 2; ++j1)
      for (unsigned j = 0; j < 4; ++j) {
        const DecodedPair *pair = byTile[2 * j1 + i1][j];
        assert(pair && "a lane decodes every (tile, register)");
        aFragments[i1][j1].push_back(
            pair->packed
                ? LLVM::BitcastOp::create(
                      builder, loc, VectorType::get({2}, builder.getF16Type()),
                      pair->packed)
                      .getResult()
                : packHalves(builder, loc, pair->first, pair->second));
      }
  Type f32 = builder.getF32Type();
  // nvgpu.mma.sync's operands: the per-thread registers as vectors, A
  // vector<4x2xf16>, B vector<2x2xf16>, C and D vector<2x2xf32>
  // (NVGPUToNVVM turns it into nvvm.mma.sync).
  auto stack = [&](ArrayRef<Value> rows, VectorType type) -> Value {
    Value stacked = arith::ConstantOp::create(builder, loc, type,
                                              builder.getZeroAttr(type));
    for (auto [index, row] : llvm::enumerate(rows))
      stacked = vector::InsertOp::create(builder, loc, row, stacked,
                                         ArrayRef<int64_t>{int64_t(index)});
    return stacked;
  };
  auto aType = VectorType::get({4, 2}, builder.getF16Type());
  auto bType = VectorType::get({2, 2}, builder.getF16Type());
  auto cType = VectorType::get({2, 2}, f32);
  for (unsigned tile = 0; tile < nTiles; ++tile) {
    // B column n = 8*tile + lane / 4 is activation row n; lanes past the
    // batch read the last row, and their output columns are never stored.
    Value n = group;
    if (tile != 0)
      n = arith::AddIOp::create(builder, loc, group,
                                constIndex(builder, loc, 8 * tile));
    if (shape.batch < 8 * (tile + 1))
      n = arith::MinUIOp::create(builder, loc, n,
                                 constIndex(builder, loc, shape.batch - 1));
    // B fragments of the two 16-column halves j1: rows k = 2*(lane%4) +
    // {0, 1} and k + 8.
    Value bFragments[2][2];
    for (unsigned j1 = 0; j1 < 2; ++j1)
      for (unsigned h = 0; h < 2; ++h) {
        Value col = arith::AddIOp::create(
            builder, loc, laneCol, constIndex(builder, loc, 16 * j1 + 8 * h));
        // The pair starts at an even column of a row of even length: one
        // 8-byte load.
        Value both = vector::LoadOp::create(
            builder, loc, VectorType::get({2}, builder.getF32Type()), x,
            ValueRange{n, col}, /*nontemporal=*/false,
            /*alignment=*/llvm::MaybeAlign(shape.cols % 2 == 0 ? 8 : 4));
        bFragments[j1][h] = packHalves(
            builder, loc, vector::ExtractOp::create(builder, loc, both, 0),
            vector::ExtractOp::create(builder, loc, both, 1));
      }
    for (unsigned i1 = 0; i1 < 2; ++i1)
      for (unsigned j1 = 0; j1 < 2; ++j1) {
        MutableArrayRef<Value> c = sums.slice(8 * tile + 4 * i1, 4);
        Value a = stack(aFragments[i1][j1], aType);
        Value b = stack({bFragments[j1][0], bFragments[j1][1]}, bType);
        SmallVector<Value, 2> cRows;
        for (unsigned row = 0; row < 2; ++row)
          cRows.push_back(vector::FromElementsOp::create(
              builder, loc, VectorType::get({2}, f32),
              ValueRange{c[2 * row], c[2 * row + 1]}));
        Value d =
            nvgpu::MmaSyncOp::create(builder, loc, a, b, stack(cRows, cType),
                                     ArrayRef<int64_t>{16, 8, 16});
        for (unsigned r = 0; r < 4; ++r)
          c[r] = vector::ExtractOp::create(
              builder, loc, d,
              ArrayRef<int64_t>{int64_t(r / 2), int64_t(r % 2)});
      }
  }
}

FailureOr<SmallVector<Value>> qpal::detail::emitLaneColumnLoops(
    OpBuilder &builder, Location loc, const KernelShape &shape,
    const KernelArgs &args, Value supertileRow, Value lane, Value begin,
    Value step, ValueRange initial, unsigned unroll,
    SupertileAccumulate accumulate, const PackedPairTable &packedPairs,
    bool vectorSegments) {
  SmallVector<Value> sums(initial);
  unroll = std::max(1u, unroll);
  for (unsigned part = 0, e = shape.quantizer.getSpec().numColumnParts();
       part < e; ++part) {
    PartGeometry geometry(shape, part);
    Value bound = constIndex(builder, loc, geometry.supertileCols);
    Value loopStep = step;
    if (unroll > 1)
      loopStep = arith::MulIOp::create(builder, loc, step,
                                       constIndex(builder, loc, unroll));
    auto loop = scf::ForOp::create(builder, loc, begin, bound, loopStep, sums);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> carried(loop.getRegionIterArgs());
    // Decode every unrolled supertile before the first product, so that
    // their loads are issued together.
    SmallVector<SmallVector<DecodedPair>> decoded(unroll);
    SmallVector<Value> colBases, valids;
    for (unsigned u = 0; u < unroll; ++u) {
      Value supertileCol = loop.getInductionVar();
      Value valid;
      if (u > 0) {
        supertileCol = arith::AddIOp::create(
            builder, loc, supertileCol,
            arith::MulIOp::create(builder, loc, step,
                                  constIndex(builder, loc, u)));
        valid = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult,
                                      supertileCol, bound);
        supertileCol = arith::MinUIOp::create(
            builder, loc, supertileCol,
            constIndex(builder, loc, geometry.supertileCols - 1));
      }
      if (failed(emitSupertileLaneDecode(
              builder, loc, shape, geometry, args, supertileRow, supertileCol,
              lane, decoded[u], packedPairs, vectorSegments)))
        return failure();
      colBases.push_back(
          supertileColumnBase(builder, loc, geometry, supertileCol));
      valids.push_back(valid);
    }
    for (unsigned u = 0; u < unroll; ++u) {
      SmallVector<Value> before = carried;
      if (accumulate)
        accumulate(builder, loc, decoded[u], colBases[u], carried);
      else
        emitFmaSupertile(builder, loc, shape, args.x, lane, decoded[u],
                         colBases[u], carried);
      if (valids[u])
        for (auto [sum, old] : llvm::zip_equal(carried, before))
          sum = arith::SelectOp::create(builder, loc, valids[u], sum, old);
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
  KernelArgs args = matmulKernelArgs(entry);
  return {function, args};
}
