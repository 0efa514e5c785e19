//===- Pipelines.cpp - qpal's named pipelines -----------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pipelines `qpal-opt` (and the `qpal` driver) run by name:
//
//   qpal-lower-linears        quantize the weights, convert them to buffers,
//                             lower each product to its target's kernels
//   qpal-cpu-kernels-to-llvm  the CPU kernels down to the LLVM dialect
//   qpal-gpu-kernels-to-ptx   the gpu.modules down to PTX
//
//===----------------------------------------------------------------------===//

#include "qpal/Passes/Pipelines.h"

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Passes/Passes.h"

#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace qpal;

namespace {

/// The options of `qpal-lower-linears`: those of its passes.
struct LowerLinearsOptions : PassPipelineOptions<LowerLinearsOptions> {
  PassOptions::Option<std::string> model{
      *this, "model",
      llvm::cl::desc("The model file (default: the module's "
                     "qpal.model_file)")};
  PassOptions::Option<uint64_t> seed{
      *this, "seed", llvm::cl::desc("Seed of the input rotations"),
      llvm::cl::init(0)};
  PassOptions::Option<KernelTarget> target{
      *this, "target", llvm::cl::desc("Kernel target"),
      llvm::cl::init(KernelTarget::Cpu),
      llvm::cl::values(clEnumValN(KernelTarget::Cpu, "cpu", "the host CPU"),
                       clEnumValN(KernelTarget::Nvptx, "nvptx",
                                  "NVIDIA GPUs through LLVM's NVPTX backend"))};
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("NVIDIA chip for target=nvptx"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<int64_t> batch{
      *this, "batch",
      llvm::cl::desc("Activation rows the kernels are specialized for"),
      llvm::cl::init(1)};
  PassOptions::Option<std::string> cpuIsa{
      *this, "cpu-isa",
      llvm::cl::desc("target=cpu: host, avx512, avx2 or generic"),
      llvm::cl::init("host")};
  PassOptions::Option<CpuDecode> cpuDecode{
      *this, "cpu-decode",
      llvm::cl::desc("target=cpu: how the tensor-core layouts decode"),
      llvm::cl::init(CpuDecode::Auto),
      llvm::cl::values(clEnumValN(CpuDecode::Auto, "auto",
                                  "the faster of the two for the quantizer"),
                       clEnumValN(CpuDecode::Vector, "vector",
                                  "the 32 lanes of a supertile at once"),
                       clEnumValN(CpuDecode::Lanes, "lanes", "lane by lane"))};
};

void buildLowerLinearsPipeline(OpPassManager &pm,
                               const LowerLinearsOptions &options) {
  QuantizeWeightsPassOptions quantize;
  quantize.model = options.model;
  quantize.seed = options.seed;
  pm.addPass(createQuantizeWeightsPass(quantize));
  pm.addPass(createConvertToBuffersPass());
  LowerToKernelsPassOptions lower;
  lower.target = options.target;
  lower.chip = options.chip;
  lower.batch = options.batch;
  lower.cpuIsa = options.cpuIsa;
  lower.cpuDecode = options.cpuDecode;
  pm.addPass(createLowerToKernelsPass(lower));
}

/// The command-line form of LowerModelOptions.
struct LowerModelPipelineOptions
    : PassPipelineOptions<LowerModelPipelineOptions> {
  PassOptions::Option<std::string> model{
      *this, "model",
      llvm::cl::desc("The model file (default: the module's "
                     "qpal.model_file)")};
  PassOptions::Option<uint64_t> seed{
      *this, "seed", llvm::cl::desc("Seed of the input rotations"),
      llvm::cl::init(0)};
  PassOptions::Option<std::string> hessians{
      *this, "hessians",
      llvm::cl::desc("Calibration statistics for rounding = hess layers")};
  PassOptions::ListOption<int64_t> batches{
      *this, "batches",
      llvm::cl::desc("Batch sizes of the entry points (default: 1,8)")};
  PassOptions::Option<std::string> cpuIsa{
      *this, "cpu-isa", llvm::cl::desc("host, avx512, avx2 or generic"),
      llvm::cl::init("host")};
  PassOptions::Option<KernelTarget> target{
      *this, "target", llvm::cl::desc("Where the model runs"),
      llvm::cl::init(KernelTarget::Cpu),
      llvm::cl::values(clEnumValN(KernelTarget::Cpu, "cpu", "the host CPU"),
                       clEnumValN(KernelTarget::Nvptx, "nvptx",
                                  "NVIDIA GPUs through LLVM's NVPTX backend"))};
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("NVIDIA chip for target=nvptx"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<bool> denseEmbedding{
      *this, "dense-embedding",
      llvm::cl::desc("Keep the embedding table in f32, not in the model "
                     "file's format"),
      llvm::cl::init(false)};
};

/// The options of qpal-gpu-model-to-llvm.
struct GpuModelPipelineOptions : PassPipelineOptions<GpuModelPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("NVIDIA chip: sm_80, sm_86, sm_89, sm_90"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("The CUDA toolkit libdevice is linked from (default: "
                     "$CUDA_HOME, $CUDA_PATH, $CUDA_ROOT, /usr/local/cuda, "
                     "/usr/lib/cuda)")};
};

} // namespace

void qpal::buildLowerModelPipeline(OpPassManager &pm,
                                   const LowerModelOptions &options) {
  QuantizeWeightsPassOptions quantize;
  quantize.model = options.model;
  quantize.seed = options.seed;
  quantize.threads = options.threads;
  quantize.hessians = options.hessians;
  quantize.cache = options.cache;
  pm.addPass(createQuantizeWeightsPass(quantize));
  MaterializeWeightsPassOptions materialize;
  materialize.model = options.model;
  materialize.denseEmbedding = options.denseEmbedding;
  pm.addPass(createMaterializeWeightsPass(materialize));
  OutlineStepsPassOptions outline;
  outline.batches.assign(options.batches.begin(), options.batches.end());
  pm.addPass(createOutlineStepsPass(outline));
  // One function per residual block: LLVM's loop passes take time quadratic
  // in a function's length.
  pm.addPass(createOutlineLayersPass());
  pm.addPass(createConvertToBuffersPass());
  LowerModelOpsPassOptions model;
  model.target =
      options.gpuModelOpsOnCpu ? KernelTarget::Nvptx : options.target;
  pm.addPass(createLowerModelOpsPass(model));
  pm.addPass(createCanonicalizerPass());
  // On a GPU every linalg op becomes a kernel launch: an element-wise op
  // and the one op that reads its result are one kernel. (On the CPU the
  // ops stay apart: a norm's scale is computed once per row, not per
  // element.)
  if (model.target == KernelTarget::Nvptx)
    pm.addPass(createLinalgElementwiseOpFusionPass());
  // One RoPE table per step, not one per layer.
  pm.addPass(createCSEPass());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = false;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  LowerToKernelsPassOptions lower;
  lower.target = options.target;
  if (options.target == KernelTarget::Nvptx) {
    lower.chip = options.chip;
    pm.addPass(createLowerToKernelsPass(lower));
    return;
  }
  lower.cpuIsa = options.cpuIsa;
  lower.cpuDecode = options.cpuDecode;
  lower.cpuParallel = true;
  pm.addPass(createLowerToKernelsPass(lower));
  // (The GPU's nests have two dimensions; scf-to-cf runs them in turn.)
  if (!options.gpuModelOpsOnCpu)
    pm.addPass(createOutlineParallelLoopsPass());
}

void qpal::buildGpuModelToLLVMPipeline(OpPassManager &pm,
                                       const std::string &chip,
                                       const std::string &cudaPath) {
  // The model's loop nests to gpu.launch, then to kernels of their own.
  // (No canonicalization between: it would inline single-iteration loop
  // nests into the host code.)
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  MapToGpuPassOptions map;
  map.chip = chip;
  pm.addPass(createMapToGpuPass(map));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // One stream per step function: launches, allocations and frees in
  // order, one synchronization at the end.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  pm.addPass(createLowerAffinePass());
  // Every gpu.module to PTX. The model's kernels take memref descriptors
  // (the KV cache and the scores have dynamic sizes), so qpal's kernels do
  // too: gpu-to-llvm passes one convention to all launches.
  buildGpuKernelsToPtxPipeline(pm, /*indexBitwidth=*/64,
                               /*barePointers=*/false, cudaPath);
  // The host side.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void qpal::registerModelLoweringDependencies(DialectRegistry &registry) {
  registerKernelLoweringDependencies(registry);
  registry.insert<bufferization::BufferizationDialect, linalg::LinalgDialect,
                  math::MathDialect, tensor::TensorDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  registerConvertMathToLLVMInterface(registry);
}

void qpal::buildCpuModelToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  // Entry points keep memref descriptors (llvm.emit_c_interface); kernels
  // and their calls carry llvm.bareptr.
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void qpal::registerQPalPipelines() {
  PassPipelineRegistration<LowerModelPipelineOptions>(
      "qpal-lower-model",
      "Lowers an allocated model to step entry points (qpal_step_b<N>) on "
      "buffers that call the CPU kernels",
      [](OpPassManager &pm, const LowerModelPipelineOptions &cl) {
        LowerModelOptions options;
        options.model = cl.model;
        options.seed = cl.seed;
        options.hessians = cl.hessians;
        if (!cl.batches.empty())
          options.batches.assign(cl.batches.begin(), cl.batches.end());
        options.cpuIsa = cl.cpuIsa;
        options.target = cl.target;
        options.chip = cl.chip;
        options.denseEmbedding = cl.denseEmbedding;
        buildLowerModelPipeline(pm, options);
      });
  PassPipelineRegistration<>(
      "qpal-cpu-model-to-llvm",
      "Lowers the step entry points and their kernels to the LLVM dialect "
      "(entry points with C interfaces, kernels with bare pointers)",
      [](OpPassManager &pm) { buildCpuModelToLLVMPipeline(pm); });
  PassPipelineRegistration<GpuModelPipelineOptions>(
      "qpal-gpu-model-to-llvm",
      "Maps the loop nests of qpal-lower-model{target=nvptx}'s step entry "
      "points to GPU kernels, lowers every gpu.module to PTX and the host "
      "side to the LLVM dialect (launches through the mgpu* runtime ABI)",
      [](OpPassManager &pm, const GpuModelPipelineOptions &cl) {
        std::string cudaPath = cl.cudaPath;
        if (cudaPath.empty()) {
          llvm::Expected<std::string> found = findCudaToolkitWithLibdevice();
          if (found)
            cudaPath = *found;
          else
            llvm::consumeError(found.takeError());
        }
        buildGpuModelToLLVMPipeline(pm, cl.chip, cudaPath);
      });
  PassPipelineRegistration<LowerLinearsOptions>(
      "qpal-lower-linears",
      "Quantizes the weights of the quantized linear layers and lowers "
      "their products to the target's kernels",
      buildLowerLinearsPipeline);
  PassPipelineRegistration<>(
      "qpal-cpu-kernels-to-llvm",
      "Lowers the CPU kernels (scf, vector, memref, arith, func) to the LLVM "
      "dialect with bare-pointer arguments",
      [](OpPassManager &pm) { buildCpuKernelsToLLVMPipeline(pm); });
  PassPipelineRegistration<>(
      "qpal-gpu-kernels-to-ptx",
      "Lowers the gpu.modules to NVVM and serializes them to PTX "
      "(gpu-module-to-binary)",
      [](OpPassManager &pm) { buildGpuKernelsToPtxPipeline(pm); });
}
