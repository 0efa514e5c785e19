//===- ReplayMain.cpp - Runs a fuzz harness over its corpus ---------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The main of the qpal-*-replay programs: a harness of fuzz/ linked without
// libFuzzer, run over the files and folders given (a corpus: the seeds and
// the reproducers of past findings). Every regular build has them and the
// lit suite runs them (test/Tools/fuzz-corpus-replay.test), so a finding
// that comes back fails CI without any fuzzer build. A harness reports a
// finding by aborting; this prints which input it was first.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc,
                                                          char ***argv);

namespace {

bool readFile(const std::string &path, std::string &bytes) {
  FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return false;
  char buffer[1 << 16];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), file)) > 0;)
    bytes.append(buffer, n);
  bool ok = !std::ferror(file);
  std::fclose(file);
  return ok;
}

/// Appends `path`, or the regular files in the folder `path` (sorted, not
/// recursive), to `files`.
bool collect(const std::string &path, std::vector<std::string> &files) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0)
    return false;
  if (!S_ISDIR(info.st_mode)) {
    files.push_back(path);
    return true;
  }
  DIR *dir = opendir(path.c_str());
  if (!dir)
    return false;
  std::vector<std::string> names;
  while (dirent *entry = readdir(dir))
    if (entry->d_name[0] != '.')
      names.push_back(entry->d_name);
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string &name : names) {
    std::string child = path + "/" + name;
    if (stat(child.c_str(), &info) == 0 && S_ISREG(info.st_mode))
      files.push_back(child);
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_CORPUS_FOLDER...\n", argv[0]);
    return 2;
  }
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i)
    if (!collect(argv[i], files)) {
      std::fprintf(stderr, "%s: cannot read '%s': %s\n", argv[0], argv[i],
                   std::strerror(errno));
      return 1;
    }
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  for (const std::string &path : files) {
    std::string bytes;
    if (!readFile(path, bytes)) {
      std::fprintf(stderr, "%s: cannot read '%s'\n", argv[0], path.c_str());
      return 1;
    }
    // Printed first, so that the input of a finding (an abort) is named.
    std::fprintf(stderr, "input %s\n", path.c_str());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                           bytes.size());
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
