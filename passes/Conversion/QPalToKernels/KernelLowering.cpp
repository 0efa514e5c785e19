//===- KernelLowering.cpp - Kernels down to LLVM and PTX ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The upstream pipelines that take qpal's kernels to machine code: for the
// host, scf/arith/memref/func to the LLVM dialect with bare-pointer
// arguments; for NVIDIA GPUs, gpu/arith/memref to NVVM and LLVM's NVPTX
// backend through `gpu-module-to-binary` (format=isa gives PTX, which ptxas
// turns into a cubin).
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/BackendOptions.h"
#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"
#include "qpal/Support/OutputFile.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <cstdlib>

using namespace mlir;
using namespace qpal;

void qpal::registerKernelLoweringDependencies(DialectRegistry &registry) {
  registerDecodeInterfaceModels(registry);
  registry.insert<QPalDialect, arith::ArithDialect, cf::ControlFlowDialect,
                  func::FuncDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                  memref::MemRefDialect, NVVM::NVVMDialect, nvgpu::NVGPUDialect,
                  scf::SCFDialect, vector::VectorDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  // A host module's gpu.binary and gpu.launch_func (nvptx packages): the
  // PTX embedded, launches through the mgpu* runtime ABI.
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  // The patterns `convert-gpu-to-nvvm` and `convert-to-llvm` gather from
  // the dialects in the kernels.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  NVVM::registerConvertGpuToNVVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  // The ub.poison canonicalization leaves in the model's kernels.
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
}

void qpal::buildCpuKernelsToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

LogicalResult qpal::lowerCpuKernelsToLLVM(ModuleOp module) {
  PassManager pm(module.getContext());
  buildCpuKernelsToLLVMPipeline(pm);
  return pm.run(module);
}

/// Whether every memref argument of the module's GPU kernels has fewer than
/// 2^31 elements, so that 32-bit index arithmetic cannot overflow.
static bool gpuIndicesFit32Bits(ModuleOp module) {
  bool fits = true;
  module.walk([&](gpu::GPUFuncOp function) {
    for (Type type : function.getArgumentTypes()) {
      auto memref = dyn_cast<MemRefType>(type);
      if (!memref || !memref.hasStaticShape() ||
          memref.getNumElements() >= (int64_t{1} << 31))
        fits = false;
    }
  });
  return fits;
}

void qpal::appendDefaultBackendOptions(std::vector<const char *> &args) {
  struct Default {
    StringRef name;
    const char *spelled;
  };
  static const Default kDefaults[] = {{"nvptx-short-ptr", "--nvptx-short-ptr"}};
  auto &registered = llvm::cl::getRegisteredOptions();
  for (const Default &option : kDefaults) {
    if (!registered.count(option.name))
      continue;
    bool named = llvm::any_of(args, [&](const char *arg) {
      StringRef given = StringRef(arg).ltrim('-');
      return given == option.name ||
             (given.starts_with(option.name) &&
              given.drop_front(option.name.size()).starts_with("="));
    });
    if (!named)
      args.push_back(option.spelled);
  }
}

void qpal::buildGpuKernelsToPtxPipeline(OpPassManager &pm,
                                        unsigned indexBitwidth,
                                        bool barePointers,
                                        const std::string &cudaPath) {
  pm.addPass(createSCFToControlFlowPass());
  // The tensor-core kernels' nvgpu.mma.sync, to nvvm.mma.sync.
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertNVGPUToNVVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvmOptions;
  nvvmOptions.useBarePtrCallConv = barePointers;
  nvvmOptions.indexBitwidth = indexBitwidth;
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(nvvmOptions));
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binaryOptions;
  binaryOptions.compilationTarget = "isa";
  // Where libdevice is linked from (calls to __nv_* functions).
  binaryOptions.toolkitPath = cudaPath;
  pm.addPass(createGpuModuleToBinaryPass(binaryOptions));
}

LogicalResult qpal::lowerGpuKernelsToPtx(ModuleOp module) {
  PassManager pm(module.getContext());
  // 64-bit integer arithmetic costs several instructions on NVIDIA GPUs:
  // index math is 32-bit wherever no buffer can reach 2^31 elements.
  buildGpuKernelsToPtxPipeline(pm, gpuIndicesFit32Bits(module) ? 32 : 64);
  return pm.run(module);
}

llvm::Expected<std::string> qpal::extractPtx(ModuleOp module, StringRef name) {
  auto binary = module.lookupSymbol<gpu::BinaryOp>(name);
  if (!binary)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("no gpu.binary named '{0}'", name));
  for (Attribute object : binary.getObjectsAttr())
    if (auto objectAttr = dyn_cast<gpu::ObjectAttr>(object))
      if (objectAttr.getFormat() == gpu::CompilationTarget::Assembly)
        return objectAttr.getObject().getValue().str();
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv("gpu.binary '{0}' holds no PTX", name));
}

/// `toolkit`'s libdevice.
static SmallString<256> getLibdevicePath(StringRef toolkit) {
  SmallString<256> path(toolkit);
  llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
  return path;
}

llvm::Expected<std::string>
qpal::findCudaToolkitWithLibdevice(StringRef requested) {
  if (!requested.empty()) {
    SmallString<256> libdevice = getLibdevicePath(requested);
    if (llvm::sys::fs::exists(libdevice))
      return requested.str();
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("--cuda-path '{0}' has no libdevice ({1} is missing), "
                      "which the model's GPU kernels need for their math "
                      "functions",
                      requested, libdevice));
  }
  std::vector<std::string> candidates;
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
    if (const char *value = std::getenv(variable); value && *value)
      candidates.push_back(value);
  candidates.push_back("/usr/local/cuda");
  candidates.push_back("/usr/lib/cuda");
  for (const std::string &candidate : candidates)
    if (llvm::sys::fs::exists(getLibdevicePath(candidate)))
      return candidate;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv("the model's GPU kernels need CUDA's libdevice "
                    "(nvvm/libdevice/libdevice.10.bc) for their math "
                    "functions, and none was found in {0}: set CUDA_HOME "
                    "to a CUDA toolkit",
                    llvm::join(candidates, ", ")));
}

std::vector<std::string> qpal::getUndefinedPtxFunctions(StringRef ptx) {
  std::vector<std::string> undefined;
  StringRef rest = ptx;
  // `.extern .func (.param .b32 func_retval0) __nv_expf(`
  while (!rest.empty()) {
    auto [line, next] = rest.split('\n');
    rest = next;
    line = line.trim();
    if (!line.consume_front(".extern .func"))
      continue;
    line = line.trim();
    if (line.starts_with("(")) // the return value
      line = line.drop_until([](char c) { return c == ')'; }).drop_front();
    undefined.push_back(
        line.trim()
            .take_until([](char c) { return c == '(' || c == ' '; })
            .str());
  }
  return undefined;
}

CpuIsa qpal::getHostCpuIsa() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](StringRef feature) {
    auto found = features.find(feature);
    return found != features.end() && found->second;
  };
  if (has("avx512f"))
    return CpuIsa::Avx512;
  if (has("avx2"))
    return CpuIsa::Avx2;
  return CpuIsa::Generic;
}

StringRef qpal::getCpuIsaName(CpuIsa isa) {
  switch (isa) {
  case CpuIsa::Generic:
    return "generic";
  case CpuIsa::Avx2:
    return "avx2";
  case CpuIsa::Avx512:
    return "avx512";
  }
  llvm_unreachable("unknown CPU ISA");
}

llvm::Expected<CpuIsa> qpal::parseCpuIsa(StringRef name, bool mustRunHere) {
  if (name == "host")
    return getHostCpuIsa();
  std::optional<CpuIsa> isa;
  for (CpuIsa candidate : {CpuIsa::Generic, CpuIsa::Avx2, CpuIsa::Avx512})
    if (name == getCpuIsaName(candidate))
      isa = candidate;
  if (!isa)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("unknown cpu ISA '{0}', expected host, avx512, avx2 or "
                      "generic",
                      name));
  // The ISAs are ordered: each includes the one before.
  if (mustRunHere && static_cast<int>(*isa) > static_cast<int>(getHostCpuIsa()))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("this host has no {0}: kernels for cpu ISA '{1}' "
                      "cannot run here (use 'host' or 'generic')",
                      *isa == CpuIsa::Avx512 ? "AVX-512F" : "AVX2", name));
  return *isa;
}

llvm::Expected<CpuDecode> qpal::parseCpuDecode(StringRef name) {
  if (name == "auto")
    return CpuDecode::Auto;
  if (name == "vector")
    return CpuDecode::Vector;
  if (name == "lanes")
    return CpuDecode::Lanes;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv("unknown cpu decode '{0}', expected auto, vector or lanes",
                    name));
}

/// Returns a target machine for the host CPU, with its features.
static llvm::Expected<std::unique_ptr<llvm::TargetMachine>> hostMachine() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // Position-independent, so that objects link into shared objects, which
  // is how the runtime loads CPU kernels.
  builder->setRelocationModel(llvm::Reloc::PIC_);
  return builder->createTargetMachine();
}

llvm::Expected<std::unique_ptr<ExecutionEngine>>
qpal::jitCpuKernels(ModuleOp module) {
  auto machine = hostMachine();
  if (!machine)
    return machine.takeError();
  auto transformer = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                               machine->get());
  ExecutionEngineOptions options;
  options.transformer = transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  return ExecutionEngine::create(module, options, std::move(*machine));
}

/// Translates `module` (LLVM dialect) to LLVM IR in `llvmContext`, with the
/// data layout and triple of `machine`.
static llvm::Expected<std::unique_ptr<llvm::Module>>
translateForHost(ModuleOp module, llvm::LLVMContext &llvmContext,
                 llvm::TargetMachine &machine) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot translate the module to LLVM IR");
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple());
  return std::move(llvmModule);
}

/// Optimizes `llvmModule` (-O3) for `machine` and writes its object file to
/// `path`, through a temporary file, so that no half-written object is left.
static llvm::Error optimizeAndEmitObject(llvm::Module &llvmModule,
                                         llvm::TargetMachine &machine,
                                         StringRef path) {
  if (llvm::Error err = makeOptimizingTransformer(3, 0, &machine)(&llvmModule))
    return err;
  return writeOutputFile(path, [&](llvm::raw_pwrite_stream &os) -> llvm::Error {
    llvm::legacy::PassManager passes;
    if (machine.addPassesToEmitFile(passes, os, nullptr,
                                    llvm::CodeGenFileType::ObjectFile))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "the host target cannot emit objects");
    passes.run(llvmModule);
    return llvm::Error::success();
  });
}

llvm::Error qpal::emitHostObject(ModuleOp module, StringRef path) {
  auto machine = hostMachine();
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateForHost(module, llvmContext, **machine);
  if (!llvmModule)
    return llvmModule.takeError();
  return optimizeAndEmitObject(**llvmModule, **machine, path);
}

/// Splits `module` (LLVM dialect, translated to LLVM IR) into
/// kCodegenPartitions modules (functions by name hash, module-local symbols
/// made hidden), then optimizes each as emitHostObject does and generates
/// its machine code, in parallel, each in an LLVM context of its own, as
/// `qpal-model-<i>.o` in `directory`; returns the objects' paths in
/// partition order. A compiled model's functions (step entry points, their
/// noinline parts, kernels reached through the thread pool) share nothing
/// that optimizing them together would exploit: the packages give the same
/// logits and decode speed as one module did (bench/results/compile-time.md).
/// The partition count is fixed, not the thread count, so that the objects
/// do not depend on the machine that compiled them.
static llvm::Expected<SmallVector<std::string>>
emitHostObjects(ModuleOp module, StringRef directory, unsigned threads) {
  constexpr unsigned kCodegenPartitions = 16;
  // A target machine per partition, made here: LLVM's target registry is
  // initialized by the first and is not written concurrently.
  SmallVector<std::unique_ptr<llvm::TargetMachine>> machines;
  for (unsigned i = 0; i < kCodegenPartitions; ++i) {
    auto machine = hostMachine();
    if (!machine)
      return machine.takeError();
    machines.push_back(std::move(*machine));
  }
  SmallVector<SmallVector<char, 0>> bitcode;
  {
    llvm::LLVMContext llvmContext;
    auto llvmModule = translateForHost(module, llvmContext, *machines[0]);
    if (!llvmModule)
      return llvmModule.takeError();
    // Partitions cross LLVM contexts as bitcode: a context is not shared
    // between threads.
    llvm::SplitModule(**llvmModule, kCodegenPartitions,
                      [&](std::unique_ptr<llvm::Module> part) {
                        llvm::raw_svector_ostream os(bitcode.emplace_back());
                        llvm::WriteBitcodeToFile(*part, os);
                      });
  }
  SmallVector<std::string> objects;
  for (unsigned i = 0; i < bitcode.size(); ++i) {
    llvm::SmallString<128> path(directory);
    llvm::sys::path::append(path, llvm::formatv("qpal-model-{0}.o", i).str());
    objects.push_back(path.str().str());
  }
  SmallVector<std::optional<std::string>> failures(bitcode.size());
  {
    llvm::DefaultThreadPool pool(llvm::hardware_concurrency(threads));
    for (unsigned i = 0; i < bitcode.size(); ++i)
      pool.async([&, i] {
        llvm::Error err = [&]() -> llvm::Error {
          llvm::LLVMContext partContext;
          llvm::Expected<std::unique_ptr<llvm::Module>> part =
              llvm::parseBitcodeFile(
                  llvm::MemoryBufferRef(
                      StringRef(bitcode[i].data(), bitcode[i].size()),
                      "qpal-model"),
                  partContext);
          if (!part)
            return part.takeError();
          return optimizeAndEmitObject(**part, *machines[i], objects[i]);
        }();
        if (err)
          failures[i] = llvm::toString(std::move(err));
      });
    pool.wait();
  }
  for (unsigned i = 0; i < failures.size(); ++i)
    if (failures[i])
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("code generation of partition {0} of {1}: {2}", i,
                        failures.size(), *failures[i]));
  return objects;
}

llvm::Expected<std::vector<char>> qpal::emitHostSharedObject(ModuleOp module,
                                                             unsigned threads) {
  // Fixed names in a fresh directory: the linker records the sources'
  // names, and the same module must give the same bytes.
  llvm::SmallString<128> directory;
  if (std::error_code error =
          llvm::sys::fs::createUniqueDirectory("qpal-link", directory))
    return llvm::createStringError(error,
                                   "cannot create a temporary directory");
  llvm::scope_exit removeDirectory(
      [&] { llvm::sys::fs::remove_directories(directory); });
  llvm::SmallString<128> shared(directory), support(directory);
  llvm::sys::path::append(shared, "qpal-model.so");
  llvm::sys::path::append(support, "qpal-parallel.c");
  if (failed(routeParallelKernelCalls(module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot route the parallel kernel calls");
  llvm::Expected<SmallVector<std::string>> objects =
      emitHostObjects(module, directory, threads);
  if (!objects)
    return objects.takeError();
  if (llvm::Error err =
          writeOutputFile(support, getHostParallelSupportSource()))
    return std::move(err);
  const char *override = std::getenv("QPAL_CC");
  std::string driverName = override && *override ? override : "cc";
  llvm::ErrorOr<std::string> driver = llvm::sys::findProgramByName(driverName);
  if (!driver)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("the C compiler driver '{0}' that links the shared "
                      "object was not found on PATH (set QPAL_CC)",
                      driverName));
  std::string prefixMap = ("-ffile-prefix-map=" + directory + "=.").str();
  std::string message;
  SmallVector<StringRef> linkArgs = {*driver,   "-shared", "-fPIC",     "-O2",
                                     prefixMap, "-o",      shared.str()};
  for (const std::string &object : *objects)
    linkArgs.push_back(object);
  linkArgs.append({support.str(), "-lm", "-lpthread", "-Wl,-z,noexecstack",
                   "-Wl,-z,nodelete"});
  int code = llvm::sys::ExecuteAndWait(*driver, linkArgs, std::nullopt, {}, 0,
                                       0, &message);
  if (code != 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("linking the shared object with '{0}' failed (exit "
                      "code {1}){2}",
                      *driver, code, message.empty() ? "" : ": " + message));
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> bytes =
      llvm::MemoryBuffer::getFile(shared, /*IsText=*/false);
  if (!bytes)
    return llvm::createStringError(bytes.getError(),
                                   "cannot read the linked shared object");
  llvm::StringRef data = (*bytes)->getBuffer();
  return std::vector<char>(data.begin(), data.end());
}

/// Assembles PTX into a cubin at `path` with ptxas.
llvm::Error qpal::assembleCubin(StringRef ptx, StringRef chipName,
                                StringRef path) {
  llvm::ErrorOr<std::string> ptxas = llvm::sys::findProgramByName("ptxas");
  if (!ptxas)
    ptxas = llvm::sys::findProgramByName("ptxas", {"/usr/local/cuda/bin"});
  if (!ptxas)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "ptxas was not found on PATH or in "
                                   "/usr/local/cuda/bin; write .ptx instead");
  llvm::SmallString<128> ptxFile;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("qpal-kernel", "ptx", ptxFile))
    return llvm::createStringError(error, "cannot create a temporary file");
  llvm::scope_exit removeTemp([&] { llvm::sys::fs::remove(ptxFile); });
  if (llvm::Error err = writeOutputFile(ptxFile, ptx))
    return err;
  std::string arch = ("-arch=" + chipName).str();
  std::string output = (path + ".part").str();
  std::string message;
  int code = llvm::sys::ExecuteAndWait(
      *ptxas, {*ptxas, arch, ptxFile.str(), "-o", output}, std::nullopt, {}, 0,
      0, &message);
  if (code != 0) {
    llvm::sys::fs::remove(output);
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "ptxas rejected the kernel (exit %d) %s",
                                   code, message.c_str());
  }
  if (std::error_code error = llvm::sys::fs::rename(output, path))
    return llvm::createStringError(error, "cannot write '%s'",
                                   path.str().c_str());
  return llvm::Error::success();
}
