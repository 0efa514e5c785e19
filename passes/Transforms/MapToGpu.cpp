//===- MapToGpu.cpp - Put the step functions' loop nests on a GPU ---------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The model's ops other than its linears are parallel loop nests over
// buffers (ModelToLinalg with target=nvptx, then
// convert-linalg-to-parallel-loops). Each becomes one gpu.launch: the
// dimension with the most iterations is split into blocks of `threads`
// threads, the others go to the grid's y and z (a fourth stays a loop), and
// what the nest does inside an iteration (a reduction, attention's loops
// over the cache) runs sequentially in that thread. The host keeps only
// allocations, views and launches.
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Passes.h"

#include "mlir/Conversion/SCFToGPU/SCFToGPU.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/GPU/Utils/GPUUtils.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qpal {
#define GEN_PASS_DEF_MAPTOGPUPASS
#include "qpal/Passes/Passes.h.inc"
} // namespace qpal

using namespace mlir;
using namespace qpal;

namespace {

/// The static trip count of dimension `d` of `loop`, or -1.
int64_t getTripCount(scf::ParallelOp loop, unsigned d) {
  std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound()[d]);
  std::optional<int64_t> upper = getConstantIntValue(loop.getUpperBound()[d]);
  std::optional<int64_t> step = getConstantIntValue(loop.getStep()[d]);
  if (!lower || !upper || !step || *step <= 0)
    return -1;
  return (*upper - *lower + *step - 1) / *step;
}

/// Tiles `loop` along its widest dimension (a dynamic one if no static one
/// fills a block) and sets the mapping attributes
/// of both loops: the tiles of that dimension to blocks in x, the other
/// dimensions to y and z, a tile's iterations to threads in x.
LogicalResult mapLoop(scf::ParallelOp loop, int64_t threads) {
  unsigned rank = loop.getNumLoops();
  // The widest static dimension; the last if none is static.
  unsigned widest = rank - 1;
  int64_t widestCount = getTripCount(loop, widest);
  for (unsigned d = 0; d < rank; ++d) {
    int64_t count = getTripCount(loop, d);
    if (count > widestCount) {
      widest = d;
      widestCount = count;
    }
  }
  // A dynamic dimension (attention's positions) grows with the context:
  // it is the one to split when no static one fills a block.
  if (widestCount < threads)
    for (unsigned d = rank; d-- > 0;)
      if (getTripCount(loop, d) < 0) {
        widest = d;
        widestCount = -1;
        break;
      }
  SmallVector<int64_t> tileSizes(rank, 1);
  tileSizes[widest] =
      widestCount > 0 ? std::min<int64_t>(widestCount, threads) : threads;
  // (Tiling replaces `loop` and erases it: nothing reads it after.)
  MLIRContext *context = loop.getContext();
  Location loc = loop.getLoc();
  auto [outer, inner] =
      scf::tileParallelLoop(loop, tileSizes, /*noMinMaxBounds=*/true);

  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
  auto dim = [&](gpu::Processor processor) {
    return gpu::ParallelLoopDimMappingAttr::get(context, processor, identity,
                                                identity);
  };
  SmallVector<gpu::ParallelLoopDimMappingAttr> outerMapping, innerMapping;
  const gpu::Processor others[] = {gpu::Processor::BlockY,
                                   gpu::Processor::BlockZ};
  unsigned next = 0;
  for (unsigned d = 0; d < rank; ++d) {
    if (d == widest) {
      outerMapping.push_back(dim(gpu::Processor::BlockX));
      innerMapping.push_back(dim(gpu::Processor::ThreadX));
      continue;
    }
    outerMapping.push_back(next < 2 ? dim(others[next++])
                                    : dim(gpu::Processor::Sequential));
    innerMapping.push_back(dim(gpu::Processor::Sequential));
  }
  if (failed(gpu::setMappingAttr(outer, outerMapping)) ||
      failed(gpu::setMappingAttr(inner, innerMapping)))
    return mlir::emitError(loc)
           << "'scf.parallel' op cannot be mapped to GPU blocks and threads";
  return success();
}

/// Replaces a host `memref.copy` by an scf.parallel nest of element
/// copies, which step 1 maps like the others.
void expandCopy(memref::CopyOp copy) {
  OpBuilder b(copy);
  Location loc = copy.getLoc();
  Value source = copy.getSource(), target = copy.getTarget();
  auto type = cast<MemRefType>(source.getType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> lower, upper, steps;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    lower.push_back(zero);
    steps.push_back(one);
    upper.push_back(
        type.isDynamicDim(d)
            ? memref::DimOp::create(b, loc, source, d).getResult()
            : arith::ConstantIndexOp::create(b, loc, type.getDimSize(d))
                  .getResult());
  }
  // (A scalar's copy is a nest of one iteration.)
  bool scalar = type.getRank() == 0;
  if (scalar) {
    lower.push_back(zero);
    upper.push_back(one);
    steps.push_back(one);
  }
  scf::ParallelOp::create(b, loc, lower, upper, steps,
                          [&](OpBuilder &b, Location loc, ValueRange ivs) {
                            ValueRange indices = scalar ? ValueRange() : ivs;
                            Value v =
                                memref::LoadOp::create(b, loc, source, indices);
                            memref::StoreOp::create(b, loc, v, target, indices);
                          });
  copy.erase();
}

/// Whether `op` lies in device code.
bool onDevice(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() ||
         op->getParentOfType<gpu::GPUModuleOp>();
}

struct MapToGpuPass final : qpal::impl::MapToGpuPassBase<MapToGpuPass> {
  using MapToGpuPassBase::MapToGpuPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (threads < 1 || threads > 1024) {
      module.emitError() << "qpal-map-to-gpu: threads must lie in [1, 1024], "
                            "got "
                         << threads.getValue();
      return signalPassFailure();
    }
    // 0. Copies between buffers are loop nests too.
    SmallVector<memref::CopyOp> copies;
    for (auto function : module.getOps<func::FuncOp>())
      function.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies)
      expandCopy(copy);

    // 1. Tile and map every outermost loop nest of the host functions.
    SmallVector<scf::ParallelOp> loops;
    for (auto function : module.getOps<func::FuncOp>())
      function.walk([&](scf::ParallelOp loop) {
        if (!loop->getParentOfType<scf::ParallelOp>())
          loops.push_back(loop);
      });
    for (scf::ParallelOp loop : loops) {
      if (loop.getNumResults() != 0) {
        loop.emitOpError("is a reduction: qpal-map-to-gpu expects loop "
                         "nests without results (each thread writes its own "
                         "elements)");
        return signalPassFailure();
      }
      if (failed(mapLoop(loop, threads)))
        return signalPassFailure();
    }

    // 2. Loop nests to gpu.launch.
    {
      RewritePatternSet patterns(&getContext());
      populateParallelLoopToGPUPatterns(patterns);
      ConversionTarget target(getContext());
      target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
      configureParallelLoopToGPULegality(target);
      if (failed(applyPartialConversion(module, target, std::move(patterns))))
        return signalPassFailure();
      finalizeParallelLoopToGPUConversion(module);
    }

    // 3. Buffers in device memory; nothing else touches them on the host.
    bool failedToMap = false;
    module.walk([&](Operation *op) {
      if (onDevice(op) || failedToMap)
        return;
      OpBuilder builder(op);
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto deviceAlloc = gpu::AllocOp::create(
            builder, alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
            ValueRange(), alloc.getDynamicSizes(), alloc.getSymbolOperands(),
            /*hostShared=*/false);
        alloc.replaceAllUsesWith(deviceAlloc.getMemref());
        alloc.erase();
        return;
      }
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(builder, dealloc.getLoc(),
                               /*asyncToken=*/Type(), ValueRange(),
                               dealloc.getMemref());
        dealloc.erase();
        return;
      }
      if (isa<memref::LoadOp, memref::StoreOp, memref::CopyOp, memref::AllocaOp,
              vector::LoadOp, vector::StoreOp, vector::TransferReadOp,
              vector::TransferWriteOp>(op)) {
        op->emitOpError("would touch a buffer's elements on the host: "
                        "qpal-map-to-gpu expects every such access inside an "
                        "scf.parallel");
        failedToMap = true;
        return;
      }
      if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
        op->emitOpError()
            << "reads the host global @" << global.getName()
            << ", which a GPU kernel cannot see (qpal-externalize-weights "
               "puts weights in the arena)";
        failedToMap = true;
      }
    });
    if (failedToMap)
      return signalPassFailure();

    // 4. Every launch to a kernel of one gpu.module (one PTX module to load,
    // not one per launch), each distinct kernel once.
    SmallVector<gpu::LaunchOp> launches;
    module.walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    if (launches.empty())
      return;
    OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
    auto kernels = gpu::GPUModuleOp::create(
        moduleBuilder, module.getLoc(), "qpal_model_kernels",
        moduleBuilder.getArrayAttr({NVVM::NVVMTargetAttr::get(
            &getContext(), /*optLevel=*/3, "nvptx64-nvidia-cuda", chip,
            "+ptx78")}));
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    moduleBuilder.getUnitAttr());
    SymbolTable symbols(kernels);
    llvm::StringMap<unsigned> counts;
    // The kernels so far by a hash of their bodies: every layer's nests
    // outline to the same kernels, which are kept once.
    llvm::DenseMap<llvm::hash_code, SmallVector<gpu::GPUFuncOp, 1>> known;
    auto hashBody = [](gpu::GPUFuncOp kernel) {
      llvm::hash_code hash = hash_value(Type(kernel.getFunctionType()));
      kernel.walk([&](Operation *op) {
        if (op == kernel) // (its name differs)
          return;
        hash = llvm::hash_combine(hash,
                                  OperationEquivalence::computeHash(
                                      op, OperationEquivalence::ignoreHashValue,
                                      OperationEquivalence::ignoreHashValue,
                                      OperationEquivalence::IgnoreLocations));
      });
      return hash;
    };
    // Whether `a` and `b` differ only in their names.
    auto sameBody = [](gpu::GPUFuncOp a, gpu::GPUFuncOp b) {
      StringAttr name = SymbolTable::getSymbolName(b);
      SymbolTable::setSymbolName(b, SymbolTable::getSymbolName(a));
      bool same = OperationEquivalence::isEquivalentTo(
          a, b, OperationEquivalence::IgnoreLocations);
      SymbolTable::setSymbolName(b, name);
      return same;
    };
    for (gpu::LaunchOp launch : launches) {
      // Constants are cloned into the kernel, not passed.
      if (failed(sinkOperationsIntoLaunchOp(launch, [](Operation *op) {
            return op->hasTrait<OpTrait::ConstantLike>();
          })))
        return signalPassFailure();
      auto host = launch->getParentOfType<func::FuncOp>();
      std::string name =
          (host.getName() + "_k" + Twine(counts[host.getName()]++)).str();
      SmallVector<Value> operands;
      gpu::GPUFuncOp kernel = outlineKernelFunc(launch, name, operands);
      SmallVector<gpu::GPUFuncOp, 1> &candidates = known[hashBody(kernel)];
      auto same = llvm::find_if(candidates, [&](gpu::GPUFuncOp candidate) {
        return sameBody(candidate, kernel);
      });
      if (same != candidates.end()) {
        kernel.erase();
        kernel = *same;
      } else {
        symbols.insert(kernel);
        candidates.push_back(kernel);
      }
      OpBuilder builder(launch);
      gpu::LaunchFuncOp::create(builder, launch.getLoc(), kernel,
                                launch.getGridSizeOperandValues(),
                                launch.getBlockSizeOperandValues(),
                                launch.getDynamicSharedMemorySize(), operands);
      launch.erase();
    }
  }
};

} // namespace
