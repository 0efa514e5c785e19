//===- BackendOptions.h - LLVM options the qpal tools default ---*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_CONVERSION_BACKENDOPTIONS_H
#define QPAL_CONVERSION_BACKENDOPTIONS_H

#include <vector>

namespace qpal {

/// Appends to a tool's command line, before it is parsed, the LLVM backend
/// options qpal's kernels are tuned for, each unless the command line
/// already names it: `--nvptx-short-ptr` (32-bit shared-memory pointers: a
/// codebook lookup addresses shared memory with one 32-bit add instead of a
/// widening multiply and a 64-bit add). LLVM reads such options only from
/// its command line, process-wide, so the tools (`qpal`, `qpal-opt`) choose
/// them and the libraries never set them; `--nvptx-short-ptr=false` turns
/// it off. Options this LLVM does not register are left out.
void appendDefaultBackendOptions(std::vector<const char *> &args);

} // namespace qpal

#endif // QPAL_CONVERSION_BACKENDOPTIONS_H
