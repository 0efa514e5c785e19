//===- OutputFile.h - Write a file whole or not at all ----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The one way qpal's tools write a file: into a temporary file beside it,
// renamed over it only once everything was written and the bytes reached
// the file system. A failure (of the caller's writer, of the disk, of the
// rename) leaves an existing file untouched and nothing half-written
// behind, and its message names the file.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_SUPPORT_OUTPUTFILE_H
#define QPAL_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace qpal {

/// Writes `path` with `write`, through a temporary file `path.tmp-XXXXXX`
/// renamed over `path` on success; `-` writes to stdout. An error from
/// `write` is returned as is (nothing is renamed); I/O errors read
/// "cannot write '<path>': <reason>".
llvm::Error writeOutputFile(
    llvm::StringRef path,
    llvm::function_ref<llvm::Error(llvm::raw_pwrite_stream &)> write);

/// Fails, as `writeOutputFile` would, unless a file can be created beside
/// `path` (creates and removes one): long commands check their output
/// before the work, not after it.
llvm::Error checkOutputFile(llvm::StringRef path);

/// Writes `bytes` to `path` as above.
llvm::Error writeOutputFile(llvm::StringRef path, llvm::StringRef bytes);

} // namespace qpal

#endif // QPAL_SUPPORT_OUTPUTFILE_H
