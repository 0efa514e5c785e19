//===- TestUtils.cpp - Shared helpers of the Model unit tests -------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cstdlib>

using namespace qpal::model::test;

std::string qpal::model::test::inputPath(const std::string &name) {
  return std::string(QPAL_MODEL_INPUTS_DIR) + "/" + name;
}

std::optional<std::string> qpal::model::test::findSmolLM2() {
  const char *env = std::getenv("QPAL_SMOLLM2_GGUF");
  std::string path = env ? env : QPAL_SMOLLM2_GGUF_DEFAULT;
  if (!llvm::sys::fs::exists(path))
    return std::nullopt;
  return path;
}

std::string qpal::model::test::sharedDir() {
  const char *env = std::getenv("QPAL_SHARED_DIR");
  return env ? env : QPAL_SHARED_DIR_DEFAULT;
}

std::optional<llvm::json::Value>
qpal::model::test::readJson(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    ADD_FAILURE() << "cannot read " << path;
    return std::nullopt;
  }
  llvm::Expected<llvm::json::Value> value =
      llvm::json::parse((*buffer)->getBuffer());
  if (!value) {
    ADD_FAILURE() << path << ": " << llvm::toString(value.takeError());
    return std::nullopt;
  }
  return std::move(*value);
}

std::vector<double> qpal::model::test::numbers(const llvm::json::Array *array) {
  std::vector<double> out;
  if (array)
    for (const llvm::json::Value &v : *array)
      out.push_back(v.getAsNumber().value_or(NAN));
  return out;
}

std::vector<int32_t>
qpal::model::test::integers(const llvm::json::Array *array) {
  std::vector<int32_t> out;
  if (array)
    for (const llvm::json::Value &v : *array)
      out.push_back(static_cast<int32_t>(v.getAsInteger().value_or(-1)));
  return out;
}
