//===- KernelCommon.cpp - Kernel names, shapes and chips ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Conversion/QPalToKernels.h"
#include "qpal/Conversion/QPalToKernels/DecodeInterfaces.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace qpal;

namespace {
struct KnownChip {
  const char *name;
  unsigned smCount;
};
// The usual part of each architecture the NVPTX target is tuned for.
constexpr KnownChip kKnownChips[] = {
    {"sm_80", 108}, // A100
    {"sm_86", 82},  // RTX 3090
    {"sm_89", 128}, // RTX 4090
    {"sm_90", 132}, // H100 SXM
};
} // namespace

llvm::Expected<GpuChip> qpal::lookupGpuChip(StringRef name) {
  for (const KnownChip &chip : kKnownChips)
    if (name == chip.name)
      return GpuChip{chip.name, chip.smCount};
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv("unknown chip '{0}', expected sm_80, sm_86, sm_89 or "
                    "sm_90",
                    name));
}

std::string qpal::getKernelName(const KernelShape &shape, StringRef target) {
  // How the codes were rounded does not change how they decode: `hess`
  // layers share the kernels of their `none` twins.
  QuantizerSpec spec = shape.quantizer.getSpec();
  spec.hessian = false;
  std::string quantizer = spec.referenceName();
  for (char &c : quantizer)
    if (!llvm::isAlnum(c))
      c = c == '.' ? 'p' : '_';
  return llvm::formatv("qpal_{0}_m{1}_k{2}_n{3}_{4}", quantizer, shape.rows,
                       shape.cols, shape.batch, target)
      .str();
}

std::string qpal::getCpuDequantKernelName(const KernelShape &shape) {
  std::string name = getKernelName(shape, "cpu");
  return "qpal_dequant" + name.substr(4);
}

LogicalResult qpal::verifyKernelShape(Location loc, const KernelShape &shape) {
  if (!shape.quantizer)
    return emitError(loc) << "a kernel needs a quantizer";
  if (shape.rows <= 0 || shape.cols <= 0 || shape.batch <= 0)
    return emitError(loc) << "expects positive M, K and batch, got "
                          << shape.rows << ", " << shape.cols << ", "
                          << shape.batch;
  if (shape.batch > 64)
    return emitError(loc) << "expects a batch of at most 64 activation rows "
                             "for a fused dequant-matmul kernel, got "
                          << shape.batch;
  QuantizerSpec spec = shape.quantizer.getSpec();
  if (!isSimtKernel(shape))
    for (unsigned part = 0, e = spec.numColumnParts(); part < e; ++part)
      if (spec.laneSegmentBytes(part) == 0)
        return emitError(loc) << shape.quantizer.getReferenceName()
                              << " has no packed code layout to lower";
  // The decode is an external model of the quantizer's attribute: without
  // it (a quantizer of a plug-in that registered none) there is nothing to
  // emit.
  bool decodes = isSimtKernel(shape)
                     ? isa<SimtDecodeAttrInterface>(shape.quantizer)
                     : isa<LaneDecodeAttrInterface>(shape.quantizer) &&
                           (spec.packedPairEntries() == 0 ||
                            isa<PackedPairTableAttrInterface>(shape.quantizer));
  if (!decodes)
    return emitError(loc) << "no decode of " << shape.quantizer
                          << " is registered (the conversion library's "
                             "registerDecodeInterfaceModels attaches qpal's)";
  return shape.quantizer.verifyShape(shape.rows, shape.cols, [&] {
    return emitError(loc) << "cannot lower a " << shape.rows << "x"
                          << shape.cols << " weight: ";
  });
}
