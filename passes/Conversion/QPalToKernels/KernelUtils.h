//===- KernelUtils.h - Pieces shared by the CPU and GPU kernels -*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PASSES_CONVERSION_QPALTOKERNELS_KERNELUTILS_H
#define QPAL_PASSES_CONVERSION_QPALTOKERNELS_KERNELUTILS_H

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace qpal::detail {

/// The argument types every kernel shares.
struct KernelTypes {
  KernelTypes(mlir::OpBuilder &builder, const KernelShape &shape,
              mlir::Attribute memorySpace = {});
  mlir::MemRefType x, codes, codebook, scales, y;
};

/// The argument values every kernel shares, and views of the codes as
/// 16- and 32-bit words (null when the code buffer is shorter than a word).
struct KernelArgs {
  mlir::Value x, codes, codebook, scales, y;
  mlir::Value codeHalves, codeWords;
};

/// The arguments of a matmul kernel: the first five arguments of its entry
/// block (x, codes, codebook, scales, y), without the word views.
KernelArgs matmulKernelArgs(mlir::Block &entry);
/// The arguments of a dequantize kernel: codes and codebook come first.
KernelArgs dequantKernelArgs(mlir::Block &entry);

/// Emits a loop of the block's threads over [0, count): thread t runs
/// `body(i)` for i = t, t + blockSize, ...
void emitBlockStridedLoop(mlir::OpBuilder &builder, mlir::Location loc,
                          mlir::Value thread, int64_t count, int64_t blockSize,
                          llvm::function_ref<void(mlir::Value)> body);

/// Creates `args`' word views of its codes at the builder's insertion point
/// (a kernel's entry).
void emitCodeWordViews(mlir::OpBuilder &builder, mlir::Location loc,
                       KernelArgs &args);

/// Where column part `part` of a weight lives.
struct PartGeometry {
  PartGeometry(const KernelShape &shape, unsigned part);
  unsigned part;
  int64_t supertileCols; // 32-column supertiles in the part
  int64_t colOffset;     // first column of the part
  uint64_t byteOffset;   // first byte of the part's codes
  unsigned segmentBytes; // bytes of one lane's segment of one supertile
};

/// A CPU kernel function being built, with its arguments; the builder is
/// at the start of its entry block.
struct CpuKernelFunction {
  mlir::func::FuncOp function;
  mlir::Block *entry;
  KernelArgs args; // with the word views of the codes
  mlir::Value range;
  mlir::Value weights; // dequantization kernels: the decoded M x K weights

  /// Ends the entry block with a return; returns the function.
  mlir::func::FuncOp finish(mlir::OpBuilder &builder, mlir::Location loc) {
    builder.setInsertionPointToEnd(entry);
    mlir::func::ReturnOp::create(builder, loc);
    return function;
  }
};

/// Creates the CPU matmul kernel `name`: `(x, codes, codebook, scales, y,
/// range)`.
CpuKernelFunction createCpuKernelFunction(mlir::OpBuilder &builder,
                                          mlir::Location loc,
                                          const KernelShape &shape,
                                          llvm::StringRef name);

/// Creates the CPU dequantization kernel `name`: `(codes, codebook,
/// weights, range)`.
CpuKernelFunction createCpuDequantFunction(mlir::OpBuilder &builder,
                                           mlir::Location loc,
                                           const KernelShape &shape,
                                           llvm::StringRef name);

/// Returns an index constant.
mlir::Value constIndex(mlir::OpBuilder &builder, mlir::Location loc,
                       int64_t value);

/// Loads the [first, last) range argument (i64[2]) of a CPU kernel as
/// indices.
std::pair<mlir::Value, mlir::Value> emitRangeBounds(mlir::OpBuilder &builder,
                                                    mlir::Location loc,
                                                    mlir::Value range);

/// Emits y[n][row] += partial * scale.
void emitScaledAccumulate(mlir::OpBuilder &builder, mlir::Location loc,
                          mlir::Value y, mlir::Value n, mlir::Value row,
                          mlir::Value partial, mlir::Value scale);

/// Emits `body(n)` for every activation row: unrolled up to 8 rows, a loop
/// beyond.
void forEachBatchRow(mlir::OpBuilder &builder, mlir::Location loc,
                     int64_t batch, llvm::function_ref<void(mlir::Value)> body);

/// Emits `body(n, r)` for n < batch and r < 32 (loops).
void forEachAccumulator(
    mlir::OpBuilder &builder, mlir::Location loc, int64_t batch,
    llvm::function_ref<void(mlir::Value, mlir::Value)> body);

/// Decodes the 16 pairs of `lane` in supertile (supertileRow, supertileCol)
/// of `geometry`'s part, through the quantizer's `emitLaneDecode` (packed,
/// from the table `packedPairs`, when given). With `vectorSegments` the
/// lane's own segment is loaded first with aligned 8- or 16-byte vector
/// loads (GPU buffers are 256-byte aligned; CPU ones need not be).
mlir::LogicalResult emitSupertileLaneDecode(
    mlir::OpBuilder &builder, mlir::Location loc, const KernelShape &shape,
    const PartGeometry &geometry, const KernelArgs &args,
    mlir::Value supertileRow, mlir::Value supertileCol, mlir::Value lane,
    llvm::SmallVectorImpl<DecodedPair> &pairs,
    const PackedPairTable &packedPairs = {}, bool vectorSegments = false);

/// Calls the quantizer's `emitLaneDecode` with `decodeArgs` and checks that
/// it decoded kPairsPerLane pairs.
mlir::LogicalResult
emitLaneDecodeChecked(mlir::OpBuilder &builder, mlir::Location loc,
                      const KernelShape &shape,
                      const LaneDecodeArgs &decodeArgs,
                      llvm::SmallVectorImpl<DecodedPair> &pairs);

/// The first weight column of supertile `supertileCol` of the part.
mlir::Value supertileColumnBase(mlir::OpBuilder &builder, mlir::Location loc,
                                const PartGeometry &geometry,
                                mlir::Value supertileCol);

/// Rows of a supertile one lane contributes to: 16*i1 + 8*(j&1) + lane/4.
constexpr unsigned kRowSlots = 4;

/// The slot (2*i1 + (j&1)) of pair (q, j): its supertile row is
/// 8 * slot + lane / 4.
inline unsigned pairRowSlot(const DecodedPair &pair) {
  return 2 * (pair.tile & 1) + (pair.reg & 1);
}

/// Returns sum + first * x[n][col] + second * x[n][col + 1].
mlir::Value emitPairFma(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Value x, mlir::Value n, mlir::Value col,
                        const DecodedPair &pair, mlir::Value sum);

/// Adds the products of one decoded supertile (its 16 pairs of the lane, its
/// first weight column `colBase`) into `sums`, in place.
using SupertileAccumulate = llvm::function_ref<void(
    mlir::OpBuilder &, mlir::Location, llvm::ArrayRef<DecodedPair> pairs,
    mlir::Value colBase, llvm::MutableArrayRef<mlir::Value> sums)>;

/// Emits, for every column part, a loop over the part's supertile columns
/// [begin, part columns) with step `step` that decodes `lane`'s 16 pairs in
/// supertile (supertileRow, column) and accumulates them into `sums`
/// (carried in registers); returns the new sums. Without `accumulate` the
/// sums are kRowSlots x batch FMA dot products (pair * x). With `unroll` > 1
/// one iteration decodes `unroll` supertiles, `step` apart, in one basic
/// block, so that their code loads are in flight together; a supertile past
/// the end is read at the last column (a valid address) and its products
/// are dropped by a select.
mlir::FailureOr<llvm::SmallVector<mlir::Value>> emitLaneColumnLoops(
    mlir::OpBuilder &builder, mlir::Location loc, const KernelShape &shape,
    const KernelArgs &args, mlir::Value supertileRow, mlir::Value lane,
    mlir::Value begin, mlir::Value step, mlir::ValueRange sums,
    unsigned unroll = 1, SupertileAccumulate accumulate = {},
    const PackedPairTable &packedPairs = {}, bool vectorSegments = false);

/// Accumulates one decoded supertile with `mma.sync.m16n8k16` (f16 inputs,
/// f32 accumulators): the lane's pairs are its A fragments as they are,
/// decoded once for all activation rows; the activations x[n][k] become the
/// B fragments of ceil(batch / 8) n-tiles (n = 8*t + lane / 4). `sums`
/// holds 8 accumulator registers per n-tile: register 8*t + 4*i1 + c is row
/// 16*i1 + lane/4 + 8*(c/2), activation row 8*t + 2*(lane%4) + c%2.
void emitMmaSupertile(mlir::OpBuilder &builder, mlir::Location loc,
                      const KernelShape &shape, mlir::Value x, mlir::Value lane,
                      llvm::ArrayRef<DecodedPair> pairs, mlir::Value colBase,
                      llvm::MutableArrayRef<mlir::Value> sums);

/// The largest batch the mma.sync kernels take (4 n-tiles of 8).
constexpr int64_t kMaxMmaBatch = 32;

/// Accumulator registers of emitMmaSupertile for `batch` activation rows.
inline unsigned getMmaSumCount(int64_t batch) {
  return 8 * static_cast<unsigned>((batch + 7) / 8);
}

/// Creates the `gpu.func` kernel `name` with the shared arguments of `shape`
/// (and `workgroup` attributions), marked as a kernel with `launch`'s known
/// block and grid sizes; returns it and its arguments.
std::pair<mlir::gpu::GPUFuncOp, KernelArgs>
createGpuKernelFunction(mlir::OpBuilder &builder, mlir::Location loc,
                        const KernelShape &shape, const GpuLaunch &launch,
                        llvm::StringRef name, mlir::TypeRange workgroup = {});

/// The lane-vector CPU kernels of the tensor-core layouts
/// (CpuVectorKernel.cpp): the decode of all 32 lanes of a supertile at once;
/// `buildCpuKernel` and `buildCpuDequantKernel` dispatch to them.
mlir::FailureOr<mlir::func::FuncOp>
buildCpuVectorKernel(mlir::OpBuilder &builder, mlir::Location loc,
                     const KernelShape &shape, const CpuKernelOptions &options);
mlir::FailureOr<mlir::func::FuncOp> buildCpuVectorDequantKernel(
    mlir::OpBuilder &builder, mlir::Location loc, const KernelShape &shape,
    const CpuKernelOptions &options, llvm::StringRef name);

/// Where the chunks of one row live.
struct SimtGeometry {
  explicit SimtGeometry(const KernelShape &shape) {
    QuantizerSpec spec = shape.quantizer.getSpec();
    bits = spec.indexBits;
    chunkCols = shape.quantizer.getSpec().simtChunkColumns();
    unsigned dim = chunkCols / 1024;
    fullChunks = shape.cols / chunkCols;
    partialLanes = (shape.cols % chunkCols) / (kWarpLanes * dim);
    rowWords = shape.cols * bits / (kWarpLanes * dim);
  }
  unsigned bits;
  int64_t chunkCols;
  int64_t fullChunks;
  int64_t partialLanes; // lanes of the last, partial chunk (0: none)
  int64_t rowWords;     // 32-bit words of one row
};

/// Emits a loop over the lanes [laneBegin, laneEnd) step laneStep of chunk
/// `chunk` (of `lanes` lanes) of `row` in the SIMT layout, one lane at a
/// time, that carries `sums` (one per batch row); returns the new sums.
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
emitSimtLaneLoop(mlir::OpBuilder &builder, mlir::Location loc,
                 const KernelShape &shape, const SimtGeometry &geometry,
                 const KernelArgs &args, mlir::Value row, mlir::Value chunk,
                 mlir::Value laneBegin, mlir::Value laneEnd,
                 mlir::Value laneStep, int64_t lanes, mlir::ValueRange sums);

/// Emits the lane-by-lane decode of the `lanes` lanes of chunk `chunk` of
/// `row` in the SIMT layout into `weights` (M x K, f32).
mlir::LogicalResult
emitSimtDequantChunk(mlir::OpBuilder &builder, mlir::Location loc,
                     const KernelShape &shape, const SimtGeometry &geometry,
                     const KernelArgs &args, mlir::Value row, mlir::Value chunk,
                     int64_t lanes, mlir::Value weights);

/// The lane-vector CPU kernels of the SIMT layouts (CpuVectorKernel.cpp):
/// the 32 lanes of each full row chunk at once, the partial last chunk
/// lane by lane.
mlir::FailureOr<mlir::func::FuncOp>
buildCpuVectorSimtKernel(mlir::OpBuilder &builder, mlir::Location loc,
                         const KernelShape &shape,
                         const CpuKernelOptions &options);
mlir::FailureOr<mlir::func::FuncOp> buildCpuVectorSimtDequantKernel(
    mlir::OpBuilder &builder, mlir::Location loc, const KernelShape &shape,
    const CpuKernelOptions &options, llvm::StringRef name);

/// The SIMT-layout kernels (SimtKernel.cpp); `buildCpuKernel`,
/// `buildCpuDequantKernel` and `buildGpuKernel` dispatch to them.
mlir::FailureOr<mlir::func::FuncOp>
buildCpuSimtKernel(mlir::OpBuilder &builder, mlir::Location loc,
                   const KernelShape &shape);
mlir::FailureOr<mlir::func::FuncOp>
buildCpuSimtDequantKernel(mlir::OpBuilder &builder, mlir::Location loc,
                          const KernelShape &shape, llvm::StringRef name);
mlir::FailureOr<mlir::gpu::GPUFuncOp>
buildGpuSimtKernel(mlir::OpBuilder &builder, mlir::Location loc,
                   const KernelShape &shape, const GpuLaunch &launch,
                   llvm::StringRef name);

} // namespace qpal::detail

#endif // QPAL_PASSES_CONVERSION_QPALTOKERNELS_KERNELUTILS_H
