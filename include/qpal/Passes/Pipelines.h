//===- Pipelines.h - qpal's named pass pipelines ----------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The pipelines `qpal compile` runs, also registered in qpal-opt:
//
//   qpal-lower-model      an imported, allocated model (qpal.linear with
//                         quantizers, fusion groups) to step entry points on
//                         buffers with kernel calls
//   qpal-cpu-model-to-llvm  those entry points and kernels to the LLVM
//                         dialect (entry points: memref descriptors with C
//                         interfaces; kernels: bare pointers)
//   qpal-gpu-model-to-llvm  with target=nvptx: the loop nests to GPU
//                         kernels, the kernels to PTX, the host side to the
//                         LLVM dialect
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PASSES_PIPELINES_H
#define QPAL_PASSES_PIPELINES_H

#include "qpal/Conversion/KernelTarget.h"

#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qpal {

/// The options of qpal-lower-model.
struct LowerModelOptions {
  /// The model file; empty: the module's qpal.model_file.
  std::string model;
  /// The seed of the input rotations (as qpal eval's).
  uint64_t seed = 0;
  /// Encoder threads (0: every hardware thread).
  unsigned threads = 0;
  /// The calibration statistics `rounding = hess` layers round against.
  std::string hessians;
  /// The layer cache directory (empty: none).
  std::string cache;
  /// The entry points' batch sizes.
  std::vector<int64_t> batches = {1, 8};
  /// target=cpu: host, avx512, avx2 or generic.
  std::string cpuIsa = "host";
  /// target=cpu: how the tensor-core layouts decode.
  CpuDecode cpuDecode = CpuDecode::Auto;
  /// Where the model runs: the host, or an NVIDIA GPU (the linears launch
  /// qpal's GPU kernels, the other ops are loop nests for
  /// qpal-gpu-model-to-llvm to map).
  KernelTarget target = KernelTarget::Cpu;
  /// target=nvptx: the chip, sm_80 .. sm_90.
  std::string chip = "sm_90";
  /// Tests only: target=cpu with the model ops lowered as for `nvptx`
  /// (parallel loop nests, no allocation inside one), run sequentially,
  /// so that the GPU's lowering of them is checked on the CPU.
  bool gpuModelOpsOnCpu = false;
  /// Keep the embedding table in f32, not in the model file's format (see
  /// qpal-materialize-weights).
  bool denseEmbedding = false;
};

/// Adds qpal-lower-model: quantize the weights, materialize the dense
/// ones, outline the step entry points, lower the packed products to
/// qpal.dequant_matmul and the model-level ops to linalg/scf, bufferize,
/// free the buffers, and lower the products to CPU kernel calls.
void buildLowerModelPipeline(mlir::OpPassManager &pm,
                             const LowerModelOptions &options);

/// Adds qpal-cpu-model-to-llvm.
void buildCpuModelToLLVMPipeline(mlir::OpPassManager &pm);

/// Adds qpal-gpu-model-to-llvm: the step entry points of
/// qpal-lower-model{target=nvptx} to host code in the LLVM dialect that
/// launches kernels through MLIR's GPU runtime ABI (mgpu*, which qpal's
/// runtime provides), and every gpu.module to PTX for `chip` (a
/// gpu.binary the host code embeds), with libdevice from the CUDA toolkit
/// at `cudaPath` (findCudaToolkitWithLibdevice).
void buildGpuModelToLLVMPipeline(mlir::OpPassManager &pm,
                                 const std::string &chip,
                                 const std::string &cudaPath);

/// Registers what qpal-lower-model and qpal-cpu-model-to-llvm need in a
/// context: the dialects, their bufferization models and LLVM conversion
/// interfaces, and the kernel lowering's dependencies.
void registerModelLoweringDependencies(mlir::DialectRegistry &registry);

/// Registers qpal's pipelines with the global registry (qpal-opt).
void registerQPalPipelines();

} // namespace qpal

#endif // QPAL_PASSES_PIPELINES_H
