//===- QPalToKernels.h - Dequant-matmul kernel generation -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Builds one specialized dequant-matmul kernel per (quantizer, M, K, batch,
// target) and lowers it to what a runtime loads: PTX (through LLVM's NVPTX
// backend) or a host object / in-process JIT.
//
// Kernel contract (every target; all shapes static): with x the rotated
// activations (N x K, f32, row-major), W_hat the decoded M x K weight and s the
// per-row scales,
//
//   y[n][m] += s[m] * sum_k W_hat[m][k] * x[n][k]
//
// The kernel *accumulates* into y (zero it for a plain product; pass the
// residual for a fused residual add). Arguments are bare pointers, in order:
// x (f32), codes (i8), codebook (f32: the fp16 codebook widened; 2 values
// per entry for TCQ and VQ), scales (f32), y (f32); CPU kernels take a sixth,
// an i64[2] range [first, last) of row groups (`getKernelRowGroup` rows:
// 32-row supertiles for the tensor-core layouts, single rows for the SIMT
// layouts), so a host can split M across threads.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_QPALTOKERNELS_H
#define QPAL_CONVERSION_QPALTOKERNELS_H

#include "qpal/Conversion/KernelTarget.h"
#include "qpal/Dialect/QPal/QPalDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qpal {

/// The attribute (FuncToLLVM's) that makes a function, and a call, use the
/// bare-pointer convention whatever the conversion's default: qpal's CPU
/// kernels and the calls to them carry it.
inline constexpr llvm::StringLiteral kBarePtrAttrName = "llvm.bareptr";

/// The attribute that marks a CPU kernel call whose row groups may run on
/// several threads (KernelLoweringOptions::cpuParallel); its value is the
/// number of row groups.
inline constexpr llvm::StringLiteral kParallelAttrName =
    QPalDialect::kParallelAttrName;

/// The unit attribute that marks a call of a loop body outlined by
/// qpal-outline-parallel-loops (its last two operands are the range).
inline constexpr llvm::StringLiteral kParallelLoopAttrName =
    QPalDialect::kParallelLoopAttrName;

/// What one kernel is specialized on.
struct KernelShape {
  QuantizerAttrInterface quantizer;
  int64_t rows = 0;  // M (the sum of the members' M for a fusion group)
  int64_t cols = 0;  // K
  int64_t batch = 1; // N: activation rows per call
};

/// An NVIDIA GPU the NVPTX target generates for.
struct GpuChip {
  std::string name; // sm_80, sm_86, sm_89, sm_90
  unsigned smCount = 0;
};

/// Returns the chip `name` with its usual SM count (A100 108, RTX 3090 82,
/// RTX 4090 128, H100 132), or an error listing the known chips.
llvm::Expected<GpuChip> lookupGpuChip(llvm::StringRef name);

/// The launch of a GPU kernel, chosen by the compiler for the chip.
struct GpuLaunch {
  int64_t gridX = 0;  // blocks: row supertiles x K splits
  int64_t blockX = 0; // threads: 32 x warps
  int64_t warps = 0;
  int64_t kSplits = 1; // > 1: blocks add partial sums atomically
  // Tensor-core layouts: accumulate with mma.sync.m16n8k16 (batch <= 32,
  // one n-tile per 8 rows) instead of CUDA-core FMAs.
  bool mma = false;
  // Supertiles one warp decodes per loop iteration (loads in flight).
  unsigned unroll = 1;
  // The codebook is copied to shared memory when it fits (<= 32 KiB).
  bool sharedCodebook = false;
  // With mma: the quantizer's packed f16x2 pair table is built in shared
  // memory instead, one lookup per weight pair (replaces sharedCodebook),
  // in `packedReplicas` copies (a power of 2 up to 32): lane w reads copy
  // w mod packedReplicas, which spreads a warp's lookups over the banks.
  bool packedPairs = false;
  unsigned packedReplicas = 1;
  // The lane's code segment is read with 8/16-byte vector loads when its
  // alignment allows.
  bool vectorSegments = true;
  // Blocks per SM the grid aims at (K is split to get there).
  unsigned blocksPerSm = 2;
};

/// Returns the kernel symbol for `shape` on `target` ("cpu" or a chip name),
/// e.g. `qpal_tcq_6_none_0p9_m576_k576_n1_cpu`.
std::string getKernelName(const KernelShape &shape, llvm::StringRef target);

/// Returns the symbol of the CPU dequantization kernel of `shape`, e.g.
/// `qpal_dequant_tcq_6_none_0p9_m576_k576_n1_cpu`.
std::string getCpuDequantKernelName(const KernelShape &shape);

/// Whether `shape`'s quantizer stores its codes in a CUDA-core (SIMT) layout
/// (one warp per row) rather than in 32 x 32 tensor-core supertiles.
bool isSimtKernel(const KernelShape &shape);

/// Rows of one unit of a CPU kernel's range argument.
inline int64_t getKernelRowGroup(const KernelShape &shape) {
  return isSimtKernel(shape) ? 1 : 32;
}

/// Checks that `shape` can be lowered (positive sizes, a layout that fits).
mlir::LogicalResult verifyKernelShape(mlir::Location loc,
                                      const KernelShape &shape);

/// Instruction-set extensions a CPU kernel's IR may name itself (LLVM's x86
/// backend otherwise picks instructions for the host it compiles for).
enum class CpuIsa {
  Generic, // target-independent vector ops only
  Avx2,    // + AVX2 permutes (vpermps on 8 lanes) for small codebooks
  Avx512,  // + AVX-512F permutes (vpermps, vpermi2ps on 16 lanes)
};

/// Returns the ISA of the host: Avx512 when it has AVX-512F, else Avx2 when
/// it has AVX2, else Generic.
CpuIsa getHostCpuIsa();

/// The name of `isa`: generic, avx2 or avx512.
llvm::StringRef getCpuIsaName(CpuIsa isa);

/// Parses `host`, `avx512`, `avx2` or `generic`; refuses an ISA the host
/// lacks when `mustRunHere` (its kernels would not run).
llvm::Expected<CpuIsa> parseCpuIsa(llvm::StringRef name, bool mustRunHere);

/// Parses `auto`, `vector` or `lanes`.
llvm::Expected<CpuDecode> parseCpuDecode(llvm::StringRef name);

/// How the CPU kernels of the tensor-core layouts decode.
struct CpuKernelOptions {
  CpuDecode decode = CpuDecode::Auto;
  /// With the vector decode: look weight pairs up in the quantizer's packed
  /// pair table (two fp16 values per 32-bit entry, built on the stack when it
  /// has at most 4096 entries), one gather per pair; false: gather each
  /// value from the f32 codebook.
  bool packedPairs = true;
  /// With the vector decode and Avx512 or Avx2: small codebooks (up to 256
  /// values, or 16 entries per component) are held in registers and looked up
  /// with permutes instead of gathers (the packed pair table is then not used).
  CpuIsa isa = CpuIsa::Generic;
  /// With the vector decode: segments per lane dealt to the lanes from the
  /// supertile's one load, its own and the next ones (TCQ windows read
  /// three at most); the decode gathers any other words it reads. Fewer
  /// only to check those gathers.
  unsigned dealtSegments = 3;
};

/// Whether the CPU kernel of `shape` decodes 32 lanes at once under
/// `options`. Auto picks the vector decode except for VQ at batch 1 with a
/// codebook too large for the registers: there VQ's gathers ran ~1.2x
/// slower than its lane-by-lane decode on a Zen 4 core, while from batch 3
/// on the lane-by-lane products fall far behind (ldlq_2_9 at batch 8: 0.74
/// against 2.3 GB/s; bench/results/cpu-kernels.md).
bool usesCpuVectorDecode(const KernelShape &shape,
                         const CpuKernelOptions &options);

/// Builds the CPU kernel for `shape` as a `func.func` at the builder's
/// insertion point (a module body).
mlir::FailureOr<mlir::func::FuncOp>
buildCpuKernel(mlir::OpBuilder &builder, mlir::Location loc,
               const KernelShape &shape, const CpuKernelOptions &options = {});

/// Builds the CPU dequantization kernel for `shape` (the batch > 8 path:
/// decode once, then a dense GEMM): `void k(codes, codebook, w, range)`
/// writes the decoded, unscaled weights W_hat (f32, M x K) of the 32-row
/// supertiles in `range`.
mlir::FailureOr<mlir::func::FuncOp>
buildCpuDequantKernel(mlir::OpBuilder &builder, mlir::Location loc,
                      const KernelShape &shape,
                      const CpuKernelOptions &options = {});

/// Choices `chooseGpuLaunch` leaves to its caller (benchmarks compare them);
/// zero means the compiler's choice.
struct GpuLaunchOptions {
  bool mma = true;         // false: CUDA-core FMAs
  bool packedPairs = true; // false: the f32 codebook
  unsigned unroll = 0;
  unsigned blocksPerSm = 0;
  unsigned packedReplicas = 0; // the most copies that fit
  bool vectorSegments = true;  // false: word loads
};

/// Chooses the launch of `shape` on `chip`.
GpuLaunch chooseGpuLaunch(const KernelShape &shape, const GpuChip &chip,
                          const GpuLaunchOptions &options = {});

/// Builds the GPU kernel for `shape` as a `gpu.func` inside the `gpu.module`
/// at the builder's insertion point.
mlir::FailureOr<mlir::gpu::GPUFuncOp> buildGpuKernel(mlir::OpBuilder &builder,
                                                     mlir::Location loc,
                                                     const KernelShape &shape,
                                                     const GpuLaunch &launch,
                                                     llvm::StringRef name);

/// Returns the symbol of the activation rotation kernel of `cols` columns
/// and `batch` rows on `target` ("cpu" or a chip), e.g.
/// `qpal_rotate_k576_n1_cpu`.
std::string getRotationKernelName(int64_t cols, int64_t batch,
                                  llvm::StringRef target);

/// Builds the CPU activation rotation kernel, y[n] = RHT(s * x[n]) for the
/// rows n in its range argument, as lib/Quant's HadamardTransform defines
/// it: `void (x[N][K], s[K], Hk[k*k], t[N][K] scratch, y[N][K], range[2])`
/// with bare pointers. Fails (at `loc`) for sizes qpal has no Hadamard
/// factorization of.
mlir::FailureOr<mlir::func::FuncOp>
buildCpuRotationKernel(mlir::OpBuilder &builder, mlir::Location loc,
                       int64_t cols, int64_t batch);

/// Builds the GPU rotation kernel `name` (same arguments, no range): one
/// block of `threads` threads per activation row.
mlir::FailureOr<mlir::gpu::GPUFuncOp>
buildGpuRotationKernel(mlir::OpBuilder &builder, mlir::Location loc,
                       int64_t cols, int64_t batch, int64_t threads,
                       llvm::StringRef name);

/// What `populateQPalToKernelsPatterns` generates.
struct KernelLoweringOptions {
  KernelTarget target = KernelTarget::Cpu;
  /// The chip of KernelTarget::Nvptx.
  GpuChip chip;
  /// Activation rows that a dynamic token dimension is specialized to.
  int64_t batch = 1;
  /// The CPU kernels' decode.
  CpuKernelOptions cpu;
  /// target=cpu: whether the kernel calls carry kParallelAttrName, so that
  /// routeParallelKernelCalls sends them through the host thread pool.
  bool cpuParallel = false;
  /// Threads of one activation row's GPU rotation block.
  int64_t gpuRotationThreads = 256;
  /// The GPU kernels' launch choices (target=nvptx).
  GpuLaunchOptions gpu;
};

/// Creates, at the builder's insertion point, `func.func @symbol(x, codes,
/// scales, signs, codebook, y)` whose body is one `qpal.dequant_matmul` of
/// `shape` on static buffers (x: batch x K, y: batch x M): one product to
/// lower on its own (`qpal kernel`, `qpal profile`'s probes).
mlir::func::FuncOp buildDequantMatmulFunction(mlir::OpBuilder &builder,
                                              mlir::Location loc,
                                              llvm::StringRef symbol,
                                              const KernelShape &shape);

/// Checks that `op` can be lowered under `options` (a kernel layout for its
/// quantizer and shape, a Hadamard transform of its K, identity-layout
/// buffers); reports why not on `op`.
mlir::LogicalResult verifyKernelLowering(DequantMatmulOp op,
                                         const KernelLoweringOptions &options);

/// Adds the pattern that replaces `qpal.dequant_matmul` by the kernels of
/// `options.target`: for the host, `func.func` rotation and dequant-matmul
/// kernels and `func.call`s of them over their whole range; for NVPTX,
/// `gpu.func`s in `gpu.module @qpal_kernels` and `gpu.launch_func`s. Kernels
/// and the Hadamard matrix globals are created once per module.
void populateQPalToKernelsPatterns(mlir::RewritePatternSet &patterns,
                                   const KernelLoweringOptions &options);

/// Adds the passes that lower a module's CPU kernels to the LLVM dialect
/// with bare-pointer arguments (the pipeline `qpal-cpu-kernels-to-llvm`).
void buildCpuKernelsToLLVMPipeline(mlir::OpPassManager &pm);

/// Adds the passes that lower a module's `gpu.module`s to NVVM and
/// serialize them to PTX (the pipeline `qpal-gpu-kernels-to-ptx`); 32-bit
/// indices when `indexBitwidth` is 32. Memref parameters are bare pointers
/// (static shapes only) unless `barePointers` is false: then memref
/// descriptors, as gpu-to-llvm passes them by default.
void buildGpuKernelsToPtxPipeline(mlir::OpPassManager &pm,
                                  unsigned indexBitwidth = 64,
                                  bool barePointers = true,
                                  const std::string &cudaPath = "");

/// The CUDA toolkit whose libdevice (nvvm/libdevice/libdevice.10.bc)
/// defines the math functions (__nv_expf, ...) a model's GPU kernels call:
/// `requested` (--cuda-path) if given, else the first of $CUDA_HOME,
/// $CUDA_PATH, $CUDA_ROOT, /usr/local/cuda and /usr/lib/cuda that has it;
/// an error that says where it looked otherwise.
llvm::Expected<std::string>
findCudaToolkitWithLibdevice(llvm::StringRef requested = "");

/// The functions `ptx` declares but does not define (`.extern .func`): a
/// driver could not load it.
std::vector<std::string> getUndefinedPtxFunctions(llvm::StringRef ptx);

/// Lowers a module of CPU kernels to the LLVM dialect.
mlir::LogicalResult lowerCpuKernelsToLLVM(mlir::ModuleOp module);

/// Lowers the `gpu.module`s of `module` to the NVVM/LLVM dialects and
/// serializes them to PTX (`gpu.binary` ops).
mlir::LogicalResult lowerGpuKernelsToPtx(mlir::ModuleOp module);

/// Returns the PTX text of the `gpu.binary` named `name` in `module`.
llvm::Expected<std::string> extractPtx(mlir::ModuleOp module,
                                       llvm::StringRef name);

/// Compiles a module of CPU kernels (already in the LLVM dialect) for the
/// host and returns the engine that holds the machine code; look kernels up
/// with `lookup(name)` (bare-pointer functions).
llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
jitCpuKernels(mlir::ModuleOp module);

/// Writes a module of CPU kernels (already in the LLVM dialect) to `path` as
/// a host object file, optimized for the host CPU.
llvm::Error emitHostObject(mlir::ModuleOp module, llvm::StringRef path);

/// Compiles `module` (LLVM dialect) for the host in a fixed number of
/// partitions, each optimized as emitHostObject does, on up to `threads`
/// threads (0: every hardware thread; the bytes do not depend on it), and
/// links them into a shared object with the system's C compiler driver
/// (`$QPAL_CC`, else `cc`; `-shared -lm`); returns the shared object's
/// bytes. Temporary files are removed.
llvm::Expected<std::vector<char>> emitHostSharedObject(mlir::ModuleOp module,
                                                       unsigned threads = 0);

/// The C source of the host thread pool linked into every shared object
/// emitHostSharedObject makes: `qpal_parallel_rows` and the exported
/// `qpal_set_threads(int)`.
const char *getHostParallelSupportSource();

/// Replaces each `llvm.call` of a CPU kernel that carries kParallelAttrName
/// by a call of `qpal_parallel_rows` (declared as needed) with the kernel's
/// address, its row-group count and its five buffers.
mlir::LogicalResult routeParallelKernelCalls(mlir::ModuleOp module);

/// Assembles `ptx` for `chipName` into a cubin at `path` with ptxas (on
/// PATH or in /usr/local/cuda/bin); nothing is left at `path` on failure.
llvm::Error assembleCubin(llvm::StringRef ptx, llvm::StringRef chipName,
                          llvm::StringRef path);

/// Registers what kernel lowering needs in `registry`: dialects, the LLVM IR
/// translations and the NVVM target.
void registerKernelLoweringDependencies(mlir::DialectRegistry &registry);

} // namespace qpal

#endif // QPAL_CONVERSION_QPALTOKERNELS_H
