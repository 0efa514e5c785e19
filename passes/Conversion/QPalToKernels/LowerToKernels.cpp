//===- LowerToKernels.cpp - dequant_matmul to kernel calls ----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The patterns of populateQPalToKernelsPatterns and the pass that applies
// them: each qpal.dequant_matmul becomes the activation rotation kernel and
// the dequant-matmul kernel of its (quantizer, M, K, batch, target), built
// once per module, and the calls (CPU) or launches (NVPTX) of both.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToBuffers.h"
#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Quant/Hadamard.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/FormatVariadic.h"

namespace qpal {
#define GEN_PASS_DEF_LOWERTOKERNELSPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

/// The symbol of the global holding the K x K Hadamard matrix of `order`.
static std::string hadamardGlobalName(unsigned order) {
  return llvm::formatv("qpal.hadamard.{0}", order).str();
}

/// The kernel shape of `op` on this target (dynamic tokens: `batch`).
static KernelShape getKernelShape(DequantMatmulOp op, int64_t batch) {
  PackedWeightType packed = op.getPackedType();
  int64_t tokens = cast<MemRefType>(op.getInput().getType()).getDimSize(0);
  return KernelShape{op.getQuantizer(), packed.getRows(), packed.getCols(),
                     ShapedType::isDynamic(tokens) ? batch : tokens};
}

func::FuncOp qpal::buildDequantMatmulFunction(OpBuilder &builder, Location loc,
                                              StringRef symbol,
                                              const KernelShape &shape) {
  auto packed = PackedWeightType::get(builder.getContext(), shape.rows,
                                      shape.cols, shape.quantizer);
  Type f32 = builder.getF32Type();
  Type arguments[] = {
      MemRefType::get({shape.batch, shape.cols}, f32),
      MemRefType::get({packed.getCodeBytes()}, builder.getI8Type()),
      MemRefType::get({shape.rows}, f32),
      MemRefType::get({shape.cols}, f32),
      MemRefType::get({packed.getCodebookValues()}, f32),
      MemRefType::get({shape.batch, shape.rows}, f32)};
  auto function = func::FuncOp::create(builder, loc, symbol,
                                       builder.getFunctionType(arguments, {}));
  Block *body = function.addEntryBlock();
  OpBuilder inside = OpBuilder::atBlockBegin(body);
  DequantMatmulOp::create(inside, loc, body->getArgument(0),
                          body->getArgument(1), body->getArgument(2),
                          body->getArgument(3), body->getArgument(4),
                          body->getArgument(5), shape.quantizer);
  func::ReturnOp::create(inside, loc);
  return function;
}

LogicalResult qpal::verifyKernelLowering(DequantMatmulOp op,
                                         const KernelLoweringOptions &options) {
  KernelShape shape = getKernelShape(op, options.batch);
  if (failed(verifyKernelShape(op.getLoc(), shape)))
    return failure();
  llvm::Expected<HadamardFactors> factors = factorHadamardSize(shape.cols);
  if (!factors)
    return op.emitOpError()
           << "cannot rotate " << shape.cols
           << " input features: " << llvm::toString(factors.takeError());
  for (Value buffer : op->getOperands()) {
    auto type = cast<MemRefType>(buffer.getType());
    if (!type.getLayout().isIdentity())
      return op.emitOpError()
             << "expects buffers with the identity layout, got " << type;
  }
  return success();
}

namespace {

/// Returns `value` cast to the static `type` when it is not of it already.
Value castTo(OpBuilder &builder, Location loc, Value value, MemRefType type) {
  if (value.getType() == type)
    return value;
  return memref::CastOp::create(builder, loc, type, value);
}

/// Returns the global of the Hadamard matrix the rotation of `cols` columns
/// needs (as f32).
FailureOr<memref::GlobalOp> getHadamardGlobal(OpBuilder &builder,
                                              ModuleOp module, int64_t cols) {
  llvm::Expected<HadamardFactors> factors = factorHadamardSize(cols);
  if (!factors) {
    llvm::consumeError(factors.takeError());
    return failure();
  }
  llvm::Expected<ArrayRef<int8_t>> matrix = hadamardMatrix(factors->smallOrder);
  if (!matrix) {
    llvm::consumeError(matrix.takeError());
    return failure();
  }
  SmallVector<float> values(matrix->begin(), matrix->end());
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    builder.getF32Type());
  return getOrCreateConstantGlobal(
      builder, module, hadamardGlobalName(factors->smallOrder),
      DenseElementsAttr::get(type, ArrayRef(values)));
}

/// A builder at the end of `block` for a kernel's body. Kernels are built
/// outside the conversion driver: they hold only legal ops, are shared by
/// every op of their shape, and their builders erase and move the ops they
/// create, which the driver must not track.
OpBuilder getKernelBuilder(Block *block) {
  return OpBuilder::atBlockEnd(block);
}

/// Buffers shared by both targets' lowerings of one op.
struct LoweringBuffers {
  KernelShape shape;
  MemRefType rowsType; // batch x K activations
  Value input, output, hadamard;
};

/// Common set-up: the kernel shape, the static activations and the
/// Hadamard matrix.
FailureOr<LoweringBuffers> prepare(DequantMatmulOp op, ModuleOp module,
                                   const KernelLoweringOptions &options,
                                   ConversionPatternRewriter &rewriter) {
  LoweringBuffers buffers;
  buffers.shape = getKernelShape(op, options.batch);
  const KernelShape &shape = buffers.shape;
  FailureOr<memref::GlobalOp> hadamard =
      getHadamardGlobal(rewriter, module, shape.cols);
  if (failed(hadamard))
    return failure();
  Location loc = op.getLoc();
  auto f32 = rewriter.getF32Type();
  buffers.rowsType = MemRefType::get({shape.batch, shape.cols}, f32);
  buffers.input = castTo(rewriter, loc, op.getInput(), buffers.rowsType);
  buffers.output = castTo(rewriter, loc, op.getOutput(),
                          MemRefType::get({shape.batch, shape.rows}, f32));
  buffers.hadamard = memref::GetGlobalOp::create(
      rewriter, loc, hadamard->getType(), hadamard->getSymName());
  return buffers;
}

/// The lowering of `qpal.dequant_matmul` for one target: the common set-up
/// (`prepare`), then `Target::lower` emits the target's kernels and their
/// calls or launches in place of the op.
template <typename Target>
struct DequantMatmulLowering : OpConversionPattern<DequantMatmulOp> {
  DequantMatmulLowering(MLIRContext *context,
                        const KernelLoweringOptions &options)
      : OpConversionPattern(context), options(options) {}

  LogicalResult
  matchAndRewrite(DequantMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    FailureOr<LoweringBuffers> buffers = prepare(op, module, options, rewriter);
    if (failed(buffers))
      return rewriter.notifyMatchFailure(op, "no rotation of this width");
    if (failed(static_cast<const Target *>(this)->lower(op, adaptor, *buffers,
                                                        module, rewriter)))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }

  KernelLoweringOptions options;
};

/// `qpal.dequant_matmul` on the host: calls of the CPU rotation and
/// dequant-matmul kernels over all their rows.
struct DequantMatmulToCpuCalls
    : DequantMatmulLowering<DequantMatmulToCpuCalls> {
  using DequantMatmulLowering::DequantMatmulLowering;

  LogicalResult lower(DequantMatmulOp op, OpAdaptor adaptor,
                      const LoweringBuffers &buffers, ModuleOp module,
                      ConversionPatternRewriter &rewriter) const {
    const KernelShape &shape = buffers.shape;
    Location loc = op.getLoc();

    // The kernels, once per module.
    std::string kernelName = getKernelName(shape, "cpu");
    std::string rotationName =
        getRotationKernelName(shape.cols, shape.batch, "cpu");
    {
      OpBuilder builder = getKernelBuilder(module.getBody());
      if (!module.lookupSymbol(rotationName) &&
          failed(buildCpuRotationKernel(builder, loc, shape.cols, shape.batch)))
        return failure();
      if (!module.lookupSymbol(kernelName) &&
          failed(buildCpuKernel(builder, loc, shape, options.cpu)))
        return failure();
    }

    // x_rot = RHT(signs * x) for rows [0, batch), then y += the product
    // over row groups [0, M / group).
    Value scratch = memref::AllocOp::create(rewriter, loc, buffers.rowsType);
    Value rotated = memref::AllocOp::create(rewriter, loc, buffers.rowsType);
    auto rangeType = MemRefType::get({2}, rewriter.getI64Type());
    Value range = memref::AllocaOp::create(rewriter, loc, rangeType);
    auto setRange = [&](int64_t last) {
      int64_t bounds[] = {0, last};
      for (auto [index, value] : llvm::enumerate(bounds)) {
        Value bound = arith::ConstantOp::create(
            rewriter, loc, rewriter.getI64IntegerAttr(value));
        Value position = arith::ConstantIndexOp::create(rewriter, loc, index);
        memref::StoreOp::create(rewriter, loc, bound, range, position);
      }
    };
    setRange(shape.batch);
    func::CallOp::create(rewriter, loc, rotationName, TypeRange(),
                         ValueRange{buffers.input, adaptor.getSigns(),
                                    buffers.hadamard, scratch, rotated, range})
        ->setAttr(kBarePtrAttrName, rewriter.getUnitAttr());
    int64_t groups = shape.rows / getKernelRowGroup(shape);
    setRange(groups);
    auto call = func::CallOp::create(
        rewriter, loc, kernelName, TypeRange(),
        ValueRange{rotated, adaptor.getCodes(), adaptor.getCodebook(),
                   adaptor.getScales(), buffers.output, range});
    call->setAttr(kBarePtrAttrName, rewriter.getUnitAttr());
    if (options.cpuParallel)
      call->setAttr(kParallelAttrName, rewriter.getI64IntegerAttr(groups));
    memref::DeallocOp::create(rewriter, loc, scratch);
    memref::DeallocOp::create(rewriter, loc, rotated);
    return success();
  }
};

/// `qpal.dequant_matmul` on an NVIDIA GPU: launches of the rotation and
/// dequant-matmul kernels of `gpu.module @qpal_kernels`.
struct DequantMatmulToGpuLaunches
    : DequantMatmulLowering<DequantMatmulToGpuLaunches> {
  using DequantMatmulLowering::DequantMatmulLowering;

  LogicalResult lower(DequantMatmulOp op, OpAdaptor adaptor,
                      const LoweringBuffers &buffers, ModuleOp module,
                      ConversionPatternRewriter &rewriter) const {
    const KernelShape &shape = buffers.shape;
    Location loc = op.getLoc();
    GpuLaunch launch = chooseGpuLaunch(shape, options.chip, options.gpu);

    // The kernels, once per module, in the one gpu.module of the chip.
    std::string kernelName = getKernelName(shape, options.chip.name);
    std::string rotationName =
        getRotationKernelName(shape.cols, shape.batch, options.chip.name);
    gpu::GPUFuncOp kernel, rotation;
    {
      auto kernels = module.lookupSymbol<gpu::GPUModuleOp>("qpal_kernels");
      if (!kernels) {
        OpBuilder builder = getKernelBuilder(module.getBody());
        kernels = gpu::GPUModuleOp::create(
            builder, module.getLoc(), "qpal_kernels",
            builder.getArrayAttr({NVVM::NVVMTargetAttr::get(
                getContext(), /*optLevel=*/3, "nvptx64-nvidia-cuda",
                options.chip.name, "+ptx78")}));
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        builder.getUnitAttr());
      }
      OpBuilder builder = getKernelBuilder(kernels.getBody());
      rotation = kernels.lookupSymbol<gpu::GPUFuncOp>(rotationName);
      if (!rotation) {
        FailureOr<gpu::GPUFuncOp> built =
            buildGpuRotationKernel(builder, loc, shape.cols, shape.batch,
                                   options.gpuRotationThreads, rotationName);
        if (failed(built))
          return failure();
        rotation = *built;
      }
      kernel = kernels.lookupSymbol<gpu::GPUFuncOp>(kernelName);
      if (!kernel) {
        FailureOr<gpu::GPUFuncOp> built =
            buildGpuKernel(builder, loc, shape, launch, kernelName);
        if (failed(built))
          return failure();
        kernel = *built;
      }
    }

    auto index = [&](int64_t value) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, value);
    };
    auto deviceBuffer = [&]() -> Value {
      return gpu::AllocOp::create(rewriter, loc, buffers.rowsType,
                                  /*asyncToken=*/Type(), ValueRange(),
                                  ValueRange(), ValueRange(),
                                  /*hostShared=*/false)
          .getMemref();
    };
    Value scratch = deviceBuffer();
    Value rotated = deviceBuffer();
    Value one = index(1);
    gpu::LaunchFuncOp::create(
        rewriter, loc, rotation, gpu::KernelDim3{index(shape.batch), one, one},
        gpu::KernelDim3{index(options.gpuRotationThreads), one, one},
        /*dynamicSharedMemorySize=*/Value(),
        ValueRange{buffers.input, adaptor.getSigns(), buffers.hadamard, scratch,
                   rotated});
    gpu::LaunchFuncOp::create(
        rewriter, loc, kernel, gpu::KernelDim3{index(launch.gridX), one, one},
        gpu::KernelDim3{index(launch.blockX), one, one},
        /*dynamicSharedMemorySize=*/Value(),
        ValueRange{rotated, adaptor.getCodes(), adaptor.getCodebook(),
                   adaptor.getScales(), buffers.output});
    gpu::DeallocOp::create(rewriter, loc, /*asyncToken=*/Type(), ValueRange(),
                           scratch);
    gpu::DeallocOp::create(rewriter, loc, /*asyncToken=*/Type(), ValueRange(),
                           rotated);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct LowerToKernelsPass final
    : qpal::impl::LowerToKernelsPassBase<LowerToKernelsPass> {
  using LowerToKernelsPassBase::LowerToKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    KernelLoweringOptions options;
    options.target = target;
    options.batch = batch;
    options.gpuRotationThreads = gpuRotationThreads;
    if (batch <= 0) {
      module.emitError() << "expects a positive batch, got "
                         << static_cast<int64_t>(batch);
      return signalPassFailure();
    }
    // The pass only writes IR: any ISA may be named on any host.
    llvm::Expected<CpuIsa> cpuIsaChoice =
        parseCpuIsa(cpuIsa, /*mustRunHere=*/false);
    if (!cpuIsaChoice) {
      module.emitError() << llvm::toString(cpuIsaChoice.takeError());
      return signalPassFailure();
    }
    options.cpu.isa = *cpuIsaChoice;
    options.cpu.decode = cpuDecode;
    options.cpu.packedPairs = cpuPackedPairs;
    options.cpu.dealtSegments = cpuDealtSegments;
    options.cpuParallel = cpuParallel;
    options.gpu.mma = gpuMma;
    options.gpu.packedPairs = gpuPackedPairs;
    options.gpu.unroll = gpuUnroll;
    options.gpu.blocksPerSm = gpuBlocksPerSm;
    options.gpu.packedReplicas = gpuPackedReplicas;
    options.gpu.vectorSegments = gpuVectorSegments;
    // Out-of-range choices are named, not clamped.
    auto checkRange = [&](StringRef name, unsigned value, unsigned low,
                          unsigned high) {
      if (value >= low && value <= high)
        return true;
      module.emitError() << "expects " << name << " in [" << low << ", " << high
                         << "], got " << value;
      return false;
    };
    if (!checkRange("cpu-dealt-segments", cpuDealtSegments, 1, 3) ||
        !checkRange("gpu-unroll", gpuUnroll, 0, 16) ||
        !checkRange("gpu-blocks-per-sm", gpuBlocksPerSm, 0, 32) ||
        !checkRange("gpu-packed-replicas", gpuPackedReplicas, 0, 32))
      return signalPassFailure();
    if (target == KernelTarget::Nvptx) {
      llvm::Expected<GpuChip> found = lookupGpuChip(chip);
      if (!found) {
        module.emitError() << llvm::toString(found.takeError());
        return signalPassFailure();
      }
      options.chip = *found;
      if (smCount > 0)
        options.chip.smCount = smCount;
    }

    // Unsupported quantizers, shapes and widths are named before anything
    // changes.
    bool failedAny = false;
    module.walk([&](DequantMatmulOp op) {
      failedAny |= failed(verifyKernelLowering(op, options));
    });
    if (failedAny)
      return signalPassFailure();

    ConversionTarget conversionTarget(getContext());
    conversionTarget.addIllegalOp<DequantMatmulOp>();
    conversionTarget.markUnknownOpDynamicallyLegal(
        [](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateQPalToKernelsPatterns(patterns, options);
    if (failed(applyPartialConversion(module, conversionTarget,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void qpal::populateQPalToKernelsPatterns(RewritePatternSet &patterns,
                                         const KernelLoweringOptions &options) {
  if (options.target == KernelTarget::Nvptx)
    patterns.add<DequantMatmulToGpuLaunches>(patterns.getContext(), options);
  else
    patterns.add<DequantMatmulToCpuCalls>(patterns.getContext(), options);
}
