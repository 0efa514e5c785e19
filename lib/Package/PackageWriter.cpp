//===- PackageWriter.cpp - Writing a compiled-model package ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Package/PackageWriter.h"

#include "qpal/Support/OutputFile.h"
#include "qpalpkg.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace llvm;
using namespace qpal::package;

static uint64_t alignUp(uint64_t value) {
  return (value + QPALPKG_ALIGNMENT - 1) / QPALPKG_ALIGNMENT *
         QPALPKG_ALIGNMENT;
}

Expected<std::vector<char>>
qpal::package::serializePackage(ArrayRef<Section> sections) {
  if (sections.size() > QPALPKG_MAX_SECTIONS)
    return createStringError(formatv("a package holds at most {0} sections, "
                                     "got {1}",
                                     QPALPKG_MAX_SECTIONS, sections.size()));
  StringSet<> names;
  for (const Section &section : sections) {
    if (section.name.empty() || section.name.size() > QPALPKG_MAX_NAME)
      return createStringError(
          formatv("section name '{0}' must have 1 to {1} bytes", section.name,
                  QPALPKG_MAX_NAME));
    if (!names.insert(section.name).second)
      return createStringError(
          formatv("section '{0}' appears twice", section.name));
  }
  // The layout: header, table, then the sections, each aligned.
  uint64_t tableOffset = alignUp(sizeof(qpalpkgHeader));
  uint64_t offset =
      alignUp(tableOffset + sections.size() * sizeof(qpalpkgSection));
  std::vector<qpalpkgSection> table(sections.size());
  for (size_t i = 0; i < sections.size(); ++i) {
    qpalpkgSection &entry = table[i];
    std::memset(&entry, 0, sizeof(entry));
    std::memcpy(entry.name, sections[i].name.data(), sections[i].name.size());
    entry.offset = offset;
    entry.bytes = sections[i].bytes.size();
    entry.checksum =
        qpalpkgChecksum(sections[i].bytes.data(), sections[i].bytes.size());
    offset = alignUp(offset + entry.bytes);
  }
  uint64_t fileBytes = offset;
  if (!sections.empty())
    fileBytes = table.back().offset + table.back().bytes;

  qpalpkgHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, QPALPKG_MAGIC, sizeof(header.magic));
  header.formatVersion = QPALPKG_FORMAT_VERSION;
  header.headerBytes = sizeof(qpalpkgHeader);
  header.fileBytes = fileBytes;
  header.sectionTableOffset = tableOffset;
  header.sectionCount = static_cast<uint32_t>(sections.size());
  header.sectionTableChecksum =
      qpalpkgChecksum(table.data(), table.size() * sizeof(qpalpkgSection));
  header.headerChecksum =
      qpalpkgChecksum(&header, offsetof(qpalpkgHeader, headerChecksum));

  std::vector<char> bytes(fileBytes, 0);
  std::memcpy(bytes.data(), &header, sizeof(header));
  if (!table.empty())
    std::memcpy(bytes.data() + tableOffset, table.data(),
                table.size() * sizeof(qpalpkgSection));
  for (size_t i = 0; i < sections.size(); ++i)
    if (!sections[i].bytes.empty())
      std::memcpy(bytes.data() + table[i].offset, sections[i].bytes.data(),
                  sections[i].bytes.size());
  return bytes;
}

Error qpal::package::writePackage(StringRef path, ArrayRef<Section> sections) {
  Expected<std::vector<char>> bytes = serializePackage(sections);
  if (!bytes)
    return bytes.takeError();
  // A temporary file beside the target, renamed over it once complete.
  return writeOutputFile(path, StringRef(bytes->data(), bytes->size()));
}
