//===- PackageWriter.h - Writing a compiled-model package -------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Writes the `.qpal` file format of runtime/include/qpalpkg.h
// (docs/Package.md): a checksummed header and section table, then each
// section at a 64-byte aligned offset. The file is written to a temporary
// name and renamed, so a failed write leaves nothing behind, and the same
// sections always give the same bytes.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_PACKAGE_PACKAGEWRITER_H
#define QPAL_PACKAGE_PACKAGEWRITER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace qpal::package {

/// One named section; `bytes` must outlive the write.
struct Section {
  std::string name;
  llvm::ArrayRef<char> bytes;
};

/// Lays out and checksums `sections` (in order) and writes the package to
/// `path` atomically. Fails on a name that is empty, too long or repeated.
llvm::Error writePackage(llvm::StringRef path,
                         llvm::ArrayRef<Section> sections);

/// The package's bytes, as writePackage would write them.
llvm::Expected<std::vector<char>>
serializePackage(llvm::ArrayRef<Section> sections);

} // namespace qpal::package

#endif // QPAL_PACKAGE_PACKAGEWRITER_H
