//===- OutputFile.cpp - Write a file whole or not at all ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Support/OutputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

using namespace llvm;

static Error cannotWrite(StringRef path, std::error_code error) {
  return createStringError(error, "cannot write '%s': %s", path.str().c_str(),
                           error.message().c_str());
}

/// Creates the temporary file beside `path` (`path` must name a file).
static Error createBeside(StringRef path, int &fd,
                          SmallVectorImpl<char> &temporary) {
  if (path.empty())
    return createStringError(inconvertibleErrorCode(),
                             "no output file named (an empty path)");
  if (std::error_code error =
          sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temporary))
    return cannotWrite(path, error);
  return Error::success();
}

Error qpal::writeOutputFile(StringRef path,
                            function_ref<Error(raw_pwrite_stream &)> write) {
  if (path == "-") {
    if (Error err = write(outs()))
      return err;
    outs().flush();
    if (outs().has_error()) {
      std::error_code error = outs().error();
      outs().clear_error();
      return cannotWrite("-", error);
    }
    return Error::success();
  }
  SmallString<256> temporary;
  int fd = -1;
  if (Error err = createBeside(path, fd, temporary))
    return err;
  Error written = Error::success();
  std::error_code ioError;
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    written = write(os);
    os.close();
    if (os.has_error()) {
      ioError = os.error();
      os.clear_error();
    }
  }
  if (written || ioError) {
    sys::fs::remove(temporary);
    if (written)
      return written;
    return cannotWrite(path, ioError);
  }
  if (std::error_code error = sys::fs::rename(temporary, path)) {
    sys::fs::remove(temporary);
    return cannotWrite(path, error);
  }
  return Error::success();
}

Error qpal::checkOutputFile(StringRef path) {
  if (path == "-")
    return Error::success();
  SmallString<256> temporary;
  int fd = -1;
  if (Error err = createBeside(path, fd, temporary))
    return err;
  sys::fs::closeFile(fd);
  sys::fs::remove(temporary);
  return Error::success();
}

Error qpal::writeOutputFile(StringRef path, StringRef bytes) {
  return writeOutputFile(path, [&](raw_pwrite_stream &os) {
    os << bytes;
    return Error::success();
  });
}
