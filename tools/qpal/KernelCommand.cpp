//===- KernelCommand.cpp - qpal kernel ------------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Emits one dequant-matmul kernel (PTX, cubin, host object or MLIR) and, on
// request, runs it on seeded random data against lib/Quant's reference
// decode (float64 matmul) and measures it. The kernel is the one a compiled
// model gets: one `qpal.dequant_matmul` lowered by `qpal-lower-to-kernels`,
// the variant flags passed as its options (KernelBuild.h).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "KernelBuild.h"
#include "KernelHarness.h"

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Passes/Passes.h"
#include "qpal/Quant/Hadamard.h"
#include "qpal/Quant/KernelCase.h"
#include "qpal/Support/Limits.h"
#include "qpal/Support/OutputFile.h"

#include "qpalrt.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

using namespace llvm;
using namespace qpal;
using qpal::driver::KernelBuild;

static cl::SubCommand
    kernelCommand("kernel",
                  "Emit, run, check and time one dequant-matmul kernel");
static cl::opt<std::string>
    quantizerName("quantizer", cl::sub(kernelCommand),
                  cl::cat(driver::category()),
                  cl::desc("Quantizer, by reference name (tcq_6_none_0.9)"));
static cl::opt<int64_t> rows("rows", cl::sub(kernelCommand), cl::init(0),
                             cl::cat(driver::category()),
                             cl::desc("M: output features (not with "
                                      "--rotation)"));
static cl::opt<int64_t> cols("cols", cl::sub(kernelCommand), cl::Required,
                             cl::cat(driver::category()),
                             cl::desc("K: input features"));
static cl::opt<int64_t> batch("batch", cl::sub(kernelCommand), cl::init(1),
                              cl::cat(driver::category()),
                              cl::desc("N: activation rows per call"));
static cl::opt<std::string> target("target", cl::sub(kernelCommand),
                                   cl::init("cpu"), cl::cat(driver::category()),
                                   cl::desc("cpu or nvptx"));
static cl::opt<std::string> chip("chip", cl::sub(kernelCommand),
                                 cl::init("sm_90"), cl::cat(driver::category()),
                                 cl::desc("GPU for nvptx: sm_80 .. sm_90"));
static cl::opt<unsigned> smCount("sm-count", cl::sub(kernelCommand),
                                 cl::init(0), cl::cat(driver::category()),
                                 cl::desc("SMs of the GPU (0: the chip's)"));
static cl::opt<bool>
    gpuMma("gpu-mma", cl::sub(kernelCommand), cl::init(true),
           cl::cat(driver::category()),
           cl::desc("nvptx, tensor-core layouts, batch <= 32: accumulate with "
                    "mma.sync (false: CUDA-core FMAs, for comparison)"));
static cl::opt<unsigned>
    gpuUnroll("gpu-unroll", cl::sub(kernelCommand), cl::init(0),
              cl::cat(driver::category()),
              cl::desc("nvptx: supertiles a warp decodes per iteration (0: the "
                       "compiler's choice)"));
static cl::opt<bool> gpuPacked(
    "gpu-packed", cl::sub(kernelCommand), cl::init(true),
    cl::cat(driver::category()),
    cl::desc("nvptx, mma.sync: look pairs up in the quantizer's packed f16x2 "
             "table (false: the f32 codebook, for comparison)"));
static cl::opt<unsigned> gpuBlocksPerSm(
    "gpu-blocks-per-sm", cl::sub(kernelCommand), cl::init(0),
    cl::cat(driver::category()),
    cl::desc("nvptx: blocks per SM the grid aims at (0: the compiler's "
             "choice)"));
static cl::opt<unsigned> gpuPackedReplicas(
    "gpu-packed-replicas", cl::sub(kernelCommand), cl::init(0),
    cl::cat(driver::category()),
    cl::desc("nvptx: copies of the packed pair table (a power of 2; 0: as "
             "many as fit, up to 32)"));
static cl::opt<bool> gpuVectorSegments(
    "gpu-vector-segments", cl::sub(kernelCommand), cl::init(true),
    cl::cat(driver::category()),
    cl::desc("nvptx: read each lane's codes with 8/16-byte vector loads "
             "(false: 4-byte word loads, for comparison)"));
static cl::opt<std::string> cpuDecode(
    "cpu-decode", cl::sub(kernelCommand), cl::init("auto"),
    cl::cat(driver::category()),
    cl::desc("cpu, tensor-core layouts: vector (the 32 lanes of a supertile "
             "at once), lanes (lane by lane) or auto (the faster for the "
             "quantizer)"));
static cl::opt<bool> cpuPacked(
    "cpu-packed", cl::sub(kernelCommand), cl::init(true),
    cl::cat(driver::category()),
    cl::desc("cpu, vector decode: one gather per weight pair from the "
             "quantizer's fp16 pair table (false: two from the f32 "
             "codebook, for comparison)"));
static cl::opt<std::string> cpuIsa(
    "cpu-isa", cl::sub(kernelCommand), cl::init("host"),
    cl::cat(driver::category()),
    cl::desc("cpu: instruction-set extensions the kernel names itself: "
             "host, avx512 or avx2 (permute lookups of small codebooks) or "
             "generic"));
static cl::opt<std::string> loadPath(
    "load", cl::sub(kernelCommand), cl::cat(driver::category()),
    cl::desc("cpu: instead of compiling, load the kernel from this shared "
             "object (from `-o k.o`, linked with -shared) through the "
             "runtime and run it (implies --run)"),
    cl::value_desc("file.so"));
static cl::opt<unsigned> cpuDealtSegments(
    "cpu-dealt-segments", cl::sub(kernelCommand), cl::init(3), cl::Hidden,
    cl::cat(driver::category()),
    cl::desc("cpu, vector decode: segments per lane dealt from the "
             "supertile's load (fewer: the others are gathered; for tests)"));
static cl::opt<bool> rotation(
    "rotation", cl::sub(kernelCommand), cl::cat(driver::category()),
    cl::desc("Emit the activation rotation kernel y = RHT(s * x) of --cols "
             "columns and --batch rows instead of a dequant-matmul"));
static cl::opt<std::string>
    outputPath("o", cl::sub(kernelCommand), cl::cat(driver::category()),
               cl::desc("Output file: .ptx, .cubin (nvptx), .o (cpu) or "
                        ".mlir"),
               cl::value_desc("file"));
static cl::opt<bool> emitMlir("emit-mlir", cl::sub(kernelCommand),
                              cl::cat(driver::category()),
                              cl::desc("Print the kernel before lowering"));
static cl::opt<bool> run("run", cl::sub(kernelCommand),
                         cl::cat(driver::category()),
                         cl::desc("Run the kernel on seeded random data"));
static cl::opt<bool> check("check", cl::sub(kernelCommand),
                           cl::cat(driver::category()),
                           cl::desc("Compare with the reference (implies "
                                    "--run)"));
static cl::opt<bool> bench("bench", cl::sub(kernelCommand),
                           cl::cat(driver::category()),
                           cl::desc("Time the kernel (implies --run)"));
static cl::opt<bool> emitJson("json", cl::sub(kernelCommand),
                              cl::cat(driver::category()),
                              cl::desc("Print the results as JSON"));
static cl::opt<std::string> guardPages(
    "guard-pages", cl::sub(kernelCommand), cl::init("none"),
    cl::cat(driver::category()),
    cl::desc("With --check on the CPU: put each argument buffer flush "
             "against an inaccessible page at its 'end' or its 'start', so "
             "that an access outside it faults (default: none)"));
static cl::opt<uint64_t> seed("seed", cl::sub(kernelCommand), cl::init(1),
                              cl::cat(driver::category()),
                              cl::desc("Seed of the random data"));
static cl::opt<unsigned> threads("threads", cl::sub(kernelCommand), cl::init(0),
                                 cl::cat(driver::category()),
                                 cl::desc("CPU threads (0: all)"));
static cl::opt<unsigned> iterations("iterations", cl::sub(kernelCommand),
                                    cl::init(0), cl::cat(driver::category()),
                                    cl::desc("Timed calls for --bench (0: "
                                             "about 0.5 s worth)"));

static constexpr StringLiteral kCommand = "kernel";

namespace {

/// The harness options of the command line.
harness::HarnessOptions harnessOptions() {
  harness::HarnessOptions options;
  options.seed = seed;
  options.threads = threads;
  options.iterations = iterations;
  options.bench = bench;
  options.guard = guardPages == "end"     ? harness::GuardPlacement::End
                  : guardPages == "start" ? harness::GuardPlacement::Start
                                          : harness::GuardPlacement::None;
  return options;
}

/// Checks --guard-pages: a known placement, on a JIT-compiled CPU kernel
/// that is checked, not timed.
Error checkGuardPages(bool gpu) {
  if (guardPages != "none" && guardPages != "end" && guardPages != "start")
    return createStringError(
        inconvertibleErrorCode(),
        formatv("unknown --guard-pages '{0}', expected none, end or start",
                guardPages.getValue()));
  if (guardPages == "none")
    return Error::success();
  if (gpu || !loadPath.empty() || bench || !run)
    return createStringError(inconvertibleErrorCode(),
                             "--guard-pages takes a CPU kernel with --check "
                             "(not --target nvptx, --load or --bench)");
  return Error::success();
}

/// Refuses sizes past qpal/Support/Limits.h's bounds before anything is
/// built or allocated from them.
Error checkKernelSizes(bool withRows) {
  if (Error err = checkMatrixShape(withRows ? "--rows and --cols"
                                            : "--batch and --cols",
                                   withRows ? rows : batch, cols))
    return err;
  if (Error err = checkBounds("--batch", batch, 1, kMaxBatch))
    return err;
  // The activations: checked first, above, for the rotation kernel.
  if (withRows)
    if (Error err = checkMatrixShape("--batch and --cols", batch, cols))
      return err;
  if (Error err = checkBounds("--gpu-unroll", gpuUnroll, 0, 16))
    return err;
  if (Error err = checkBounds("--gpu-blocks-per-sm", gpuBlocksPerSm, 0, 32))
    return err;
  return checkBounds("--gpu-packed-replicas", gpuPackedReplicas, 0, 32);
}

/// `qpal kernel --rotation`: the activation rotation kernel.
int runRotationKernel() {
  if (!quantizerName.empty() || rows != 0)
    return driver::reportError(
        kCommand, "--rotation takes --cols and --batch, not --quantizer or "
                  "--rows");
  if (bench)
    return driver::reportError(kCommand,
                               "--bench is for dequant-matmul kernels");
  if (Error err = checkKernelSizes(/*withRows=*/false))
    return driver::reportError(kCommand, toString(std::move(err)));
  bool gpu = target == "nvptx";
  if (!gpu && target != "cpu")
    return driver::reportError(
        kCommand, formatv("unknown target '{0}', expected cpu or nvptx",
                          target.getValue()));
  if (gpu && run)
    return driver::reportError(
        kCommand, "--check of the GPU rotation kernel runs through "
                  "qpal-gpu-kernels on a GPU machine, not here");
  if (Error err = checkGuardPages(gpu))
    return driver::reportError(kCommand, toString(std::move(err)));
  KernelBuild build;
  mlir::OpBuilder &builder = build.builder;
  mlir::Location loc = build.loc;
  harness::Report report;
  report.fields["kernel_kind"] = "rotation";
  report.fields["cols"] = cols.getValue();
  report.fields["batch"] = batch.getValue();
  if (gpu) {
    Expected<GpuChip> found = lookupGpuChip(chip);
    if (!found)
      return driver::reportError(kCommand, toString(found.takeError()));
    build.startGpuModule(found->name);
    std::string name = getRotationKernelName(cols, batch, found->name);
    constexpr int64_t kThreads = 256;
    if (failed(
            buildGpuRotationKernel(builder, loc, cols, batch, kThreads, name)))
      return driver::reportError(kCommand, build.diagnostics);
    report.fields["kernel"] = name;
    report.fields["grid"] = batch.getValue();
    report.fields["block"] = kThreads;
    if (Expected<std::string> ptx = build.emitPtx(outputPath, chip, !emitJson);
        !ptx)
      return driver::reportError(kCommand, toString(ptx.takeError()));
  } else {
    if (failed(buildCpuRotationKernel(builder, loc, cols, batch)))
      return driver::reportError(kCommand, build.diagnostics);
    report.fields["kernel"] = getRotationKernelName(cols, batch, "cpu");
    if (failed(lowerCpuKernelsToLLVM(*build.module)))
      return driver::reportError(kCommand, "cannot lower the kernel to LLVM: " +
                                               build.diagnostics);
    if (!outputPath.empty())
      if (Error err = emitHostObject(*build.module, outputPath))
        return driver::reportError(kCommand, toString(std::move(err)));
    if (run)
      if (Error err = harness::runCpuRotationKernel(*build.module, cols, batch,
                                                    harnessOptions(), report))
        return driver::reportError(kCommand, toString(std::move(err)));
  }
  if (emitJson)
    outs() << formatv("{0:2}", json::Value(std::move(report.fields))) << "\n";
  else
    for (const std::string &line : report.lines)
      outs() << line << "\n";
  return 0;
}

int runKernel() {
  if (check || bench || !loadPath.empty())
    run = true;
  if (rotation)
    return runRotationKernel();
  if (quantizerName.empty() || rows <= 0)
    return driver::reportError(kCommand,
                               "needs --quantizer and --rows (or --rotation)");
  if (Error err = checkKernelSizes(/*withRows=*/true))
    return driver::reportError(kCommand, toString(std::move(err)));
  KernelBuild build;
  mlir::MLIRContext &context = build.context;
  mlir::OpBuilder &builder = build.builder;
  mlir::Location loc = build.loc;
  std::string &diagnostics = build.diagnostics;
  mlir::OwningOpRef<mlir::ModuleOp> &module = build.module;

  Expected<QuantizerAttrInterface> quantizer =
      parseQuantizerName(&context, quantizerName);
  if (!quantizer)
    return driver::reportError(kCommand, toString(quantizer.takeError()));
  KernelShape shape{*quantizer, rows, cols, batch};
  bool gpu = target == "nvptx";
  if (!gpu && target != "cpu")
    return driver::reportError(
        kCommand, formatv("unknown target '{0}', expected cpu or nvptx",
                          target.getValue()));

  if (gpu && !loadPath.empty())
    return driver::reportError(
        kCommand, "--load runs CPU kernels; GPU kernels run through "
                  "--run here or qpal-gpu-kernels on a GPU machine");
  if (Error err = checkGuardPages(gpu))
    return driver::reportError(kCommand, toString(std::move(err)));

  harness::Report report;
  report.fields["quantizer"] = quantizer->getReferenceName();
  report.fields["target"] = gpu ? chip.getValue() : std::string("cpu");
  report.fields["rows"] = rows.getValue();
  report.fields["cols"] = cols.getValue();
  report.fields["batch"] = batch.getValue();
  GpuLaunch launch;
  std::string name;
  if (gpu) {
    Expected<GpuChip> found = lookupGpuChip(chip);
    if (!found)
      return driver::reportError(kCommand, toString(found.takeError()));
    if (smCount)
      found->smCount = smCount;
    name = getKernelName(shape, found->name);
    // The launch is chosen for a valid shape only; the lowering reports an
    // invalid one.
    if (failed(verifyKernelShape(loc, shape)))
      return driver::reportError(kCommand, diagnostics);
    LowerToKernelsPassOptions lowering;
    lowering.target = KernelTarget::Nvptx;
    lowering.chip = found->name;
    lowering.smCount = smCount;
    lowering.batch = batch;
    lowering.gpuMma = gpuMma;
    lowering.gpuPackedPairs = gpuPacked;
    lowering.gpuUnroll = gpuUnroll;
    lowering.gpuBlocksPerSm = gpuBlocksPerSm;
    lowering.gpuPackedReplicas = gpuPackedReplicas;
    lowering.gpuVectorSegments = gpuVectorSegments;
    GpuLaunchOptions options;
    options.mma = gpuMma;
    options.packedPairs = gpuPacked;
    options.unroll = gpuUnroll;
    options.blocksPerSm = gpuBlocksPerSm;
    options.packedReplicas = gpuPackedReplicas;
    options.vectorSegments = gpuVectorSegments;
    launch = chooseGpuLaunch(shape, *found, options);
    if (failed(build.lowerProduct(shape, lowering, name, &launch)))
      return driver::reportError(kCommand, diagnostics);
    report.fields["grid"] = launch.gridX;
    report.fields["block"] = launch.blockX;
    report.fields["k_splits"] = launch.kSplits;
    report.fields["mma"] = launch.mma;
    report.fields["unroll"] = static_cast<int64_t>(launch.unroll);
    report.fields["shared_codebook"] = launch.sharedCodebook;
    report.fields["packed_pairs"] = launch.packedPairs;
    report.fields["vector_segments"] = launch.vectorSegments;
    report.fields["packed_replicas"] =
        static_cast<int64_t>(launch.packedReplicas);
    report.fields["blocks_per_sm"] = static_cast<int64_t>(launch.blocksPerSm);
  } else if (!loadPath.empty()) {
    if (!outputPath.empty() || emitMlir)
      return driver::reportError(
          kCommand, "--load runs a compiled kernel; it takes no -o or "
                    "--emit-mlir");
    if (failed(verifyKernelShape(loc, shape)))
      return driver::reportError(kCommand, diagnostics);
    name = getKernelName(shape, "cpu");
    if (Error err =
            harness::runCpuObject(loadPath, shape, harnessOptions(), report))
      return driver::reportError(kCommand, toString(std::move(err)));
  } else {
    name = getKernelName(shape, "cpu");
    CpuKernelOptions options;
    Expected<CpuDecode> decode = parseCpuDecode(cpuDecode);
    if (!decode)
      return driver::reportError(kCommand, toString(decode.takeError()));
    options.decode = *decode;
    options.packedPairs = cpuPacked;
    options.dealtSegments = cpuDealtSegments;
    bool onlyMlir = StringRef(outputPath).ends_with(".mlir") && !run;
    Expected<CpuIsa> isa = parseCpuIsa(cpuIsa, /*mustRunHere=*/!onlyMlir);
    if (!isa)
      return driver::reportError(kCommand, toString(isa.takeError()));
    options.isa = *isa;
    // A CPU kernel goes nowhere by default (a GPU one prints its PTX).
    if (!run && !emitMlir && outputPath.empty())
      return driver::reportError(
          kCommand, "nothing to do: give -o FILE (.o or .mlir), --emit-mlir, "
                    "--run, --check or --bench");
    report.fields["cpu_isa"] = getCpuIsaName(*isa).str();
    LowerToKernelsPassOptions lowering;
    lowering.target = KernelTarget::Cpu;
    lowering.batch = batch;
    lowering.cpuIsa = getCpuIsaName(*isa).str();
    lowering.cpuDecode = *decode;
    lowering.cpuPackedPairs = cpuPacked;
    lowering.cpuDealtSegments = cpuDealtSegments;
    // The product kernel comes from the pass; its dequantization twin, which
    // only the check runs, from the kernel library.
    if (failed(build.lowerProduct(shape, lowering, name, nullptr)) ||
        failed(buildCpuDequantKernel(builder, loc, shape, options)))
      return driver::reportError(kCommand, diagnostics);
    report.fields["vector_decode"] = usesCpuVectorDecode(shape, options);
  }
  report.fields["kernel"] = name;

  if (emitMlir || StringRef(outputPath).ends_with(".mlir")) {
    std::string text;
    raw_string_ostream os(text);
    module->print(os);
    if (outputPath.empty() || !StringRef(outputPath).ends_with(".mlir"))
      outs() << text;
    else if (Error err = writeOutputFile(outputPath, text))
      return driver::reportError(kCommand, toString(std::move(err)));
    if (!run)
      return 0;
  }

  if (!loadPath.empty()) {
    // Ran above.
  } else if (gpu) {
    // With --run, -o is written only once the kernel ran: a machine
    // without a GPU leaves an existing file alone.
    Expected<std::string> ptx = build.lowerToPtx();
    if (!ptx)
      return driver::reportError(kCommand, toString(ptx.takeError()));
    if (run)
      if (Error err = harness::runGpuKernel(*ptx, shape, launch, name,
                                            harnessOptions(), report))
        return driver::reportError(kCommand, toString(std::move(err)));
    if (Error err = build.writePtx(*ptx, outputPath, chip, !run && !emitJson))
      return driver::reportError(kCommand, toString(std::move(err)));
  } else {
    if (failed(lowerCpuKernelsToLLVM(*module)))
      return driver::reportError(kCommand, "cannot lower the kernel to LLVM: " +
                                               diagnostics);
    StringRef out = outputPath;
    if (!out.empty() && !out.ends_with(".mlir"))
      if (Error err = emitHostObject(*module, out))
        return driver::reportError(kCommand, toString(std::move(err)));
    if (run)
      if (Error err =
              harness::runCpuKernel(*module, shape, harnessOptions(), report))
        return driver::reportError(kCommand, toString(std::move(err)));
  }

  if (emitJson) {
    outs() << formatv("{0:2}", json::Value(std::move(report.fields))) << "\n";
  } else if (run) {
    outs() << formatv("{0} {1}x{2} batch {3} on {4}\n",
                      quantizerName.getValue(), rows.getValue(),
                      cols.getValue(), batch.getValue(),
                      gpu ? chip.getValue() : std::string("cpu"));
    for (const std::string &line : report.lines)
      outs() << "  " << line << "\n";
  }
  return 0;
}

} // namespace

static driver::CommandRegistration registerKernel(kernelCommand, runKernel);
