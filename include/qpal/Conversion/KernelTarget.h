//===- KernelTarget.h - What qpal generates kernels for ---------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_KERNELTARGET_H
#define QPAL_CONVERSION_KERNELTARGET_H

namespace qpal {

/// The machines qpal generates dequant-matmul kernels for.
enum class KernelTarget {
  Cpu,   // the host, through LLVM's host backend
  Nvptx, // NVIDIA GPUs, through LLVM's NVPTX backend
};

} // namespace qpal

#endif // QPAL_CONVERSION_KERNELTARGET_H
