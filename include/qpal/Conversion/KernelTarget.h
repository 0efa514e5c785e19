//===- KernelTarget.h - What qpal generates kernels for, and how -*- C++
//-*-===//
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

/// How a CPU kernel of the tensor-core layouts decodes.
enum class CpuDecode {
  Auto,   // the faster of the two for the quantizer (usesCpuVectorDecode)
  Vector, // the 32 lanes of a supertile at once, with `vector` ops
  Lanes,  // lane by lane, with scalar code (as the GPU threads do)
};

} // namespace qpal

#endif // QPAL_CONVERSION_KERNELTARGET_H
