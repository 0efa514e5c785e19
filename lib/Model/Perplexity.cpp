//===- Perplexity.cpp - qpal's evaluation protocol ------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Model/Perplexity.h"

#include "qpal/Model/Evaluator.h"
#include "qpal/Model/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"

#include <chrono>
#include <cmath>
#include <cstdlib>

using namespace qpal::model;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

Expected<std::string>
qpal::model::loadProtocolText(const PerplexityProtocol &protocol) {
  std::string dir = protocol.textDir;
  if (dir.empty()) {
    const char *shared = std::getenv("QPAL_SHARED_DIR");
    if (!shared)
      return llvm::createStringError(
          "no text folder given and QPAL_SHARED_DIR is not set");
    llvm::SmallString<256> path(shared);
    llvm::sys::path::append(path, "data", "sotu");
    dir = path.str().str();
  }
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    int year;
    if (!name.ends_with(".txt") || name.size() < 5 || name[4] != '_' ||
        name.take_front(4).getAsInteger(10, year))
      continue;
    if (year >= protocol.firstYear && year <= protocol.lastYear)
      files.push_back(it->path());
  }
  if (ec)
    return llvm::createStringError(ec, "cannot list '" + dir +
                                           "': " + ec.message());
  if (files.empty())
    return llvm::createStringError(
        llvm::formatv("no speeches of {0}..{1} in '{2}'", protocol.firstYear,
                      protocol.lastYear, dir));
  llvm::sort(files, [](const std::string &a, const std::string &b) {
    return llvm::sys::path::filename(a) < llvm::sys::path::filename(b);
  });
  std::string text;
  for (size_t i = 0; i < files.size(); ++i) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(files[i], /*IsText=*/false);
    if (!buffer)
      return llvm::createStringError(buffer.getError(),
                                     "cannot read '" + files[i] + "'");
    if (i > 0)
      text += "\n\n";
    text += (*buffer)->getBuffer();
  }
  return text;
}

Expected<std::vector<int32_t>>
qpal::model::loadProtocolTokens(const Tokenizer &tokenizer,
                                const PerplexityProtocol &protocol) {
  Expected<std::string> text = loadProtocolText(protocol);
  if (!text)
    return text.takeError();
  std::vector<int32_t> ids = tokenizer.encode(*text, protocol.addBos);
  if (protocol.maxTokens > 0 &&
      static_cast<int64_t>(ids.size()) > protocol.maxTokens)
    ids.resize(protocol.maxTokens);
  return ids;
}

Expected<PerplexityResult>
qpal::model::evaluatePerplexity(Evaluator &evaluator,
                                llvm::ArrayRef<int32_t> tokens,
                                const PerplexityProtocol &protocol) {
  if (protocol.window < 2 || protocol.stride < 1)
    return llvm::createStringError(
        llvm::formatv("perplexity needs a window of at least 2 and a positive "
                      "stride, got {0} and {1}",
                      protocol.window, protocol.stride));
  if (protocol.window > evaluator.getMaxContext())
    return llvm::createStringError(
        llvm::formatv("window {0} exceeds the evaluator's context {1}",
                      protocol.window, evaluator.getMaxContext()));
  PerplexityResult result;
  double total = 0.0;
  auto start = std::chrono::steady_clock::now();
  int64_t n = static_cast<int64_t>(tokens.size());
  int64_t windows =
      n < protocol.window ? 0 : (n - protocol.window) / protocol.stride + 1;
  for (int64_t begin = 0; begin + protocol.window <= n;
       begin += protocol.stride) {
    Expected<double> nll =
        evaluator.scoreSequence(tokens.slice(begin, protocol.window));
    if (!nll)
      return nll.takeError();
    result.windowNll.push_back(*nll);
    total += *nll;
    result.tokensScored += protocol.window - 1;
    if (protocol.progress)
      protocol.progress(static_cast<int64_t>(result.windowNll.size()), windows);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (result.tokensScored == 0)
    return llvm::createStringError(llvm::formatv(
        "{0} tokens do not fill one window of {1}", n, protocol.window));
  result.perplexity =
      std::exp(total / static_cast<double>(result.tokensScored));
  return result;
}

Expected<PerplexityResult>
qpal::model::evaluateProtocolPerplexity(Evaluator &evaluator,
                                        const Tokenizer &tokenizer,
                                        const PerplexityProtocol &protocol) {
  Expected<std::vector<int32_t>> tokens =
      loadProtocolTokens(tokenizer, protocol);
  if (!tokens)
    return tokens.takeError();
  return evaluatePerplexity(evaluator, *tokens, protocol);
}

std::string qpal::model::hashTokenIds(llvm::ArrayRef<int32_t> ids) {
  llvm::SHA256 hasher;
  for (int32_t id : ids) {
    uint32_t value = static_cast<uint32_t>(id);
    uint8_t bytes[4] = {
        static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
        static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
    hasher.update(llvm::ArrayRef<uint8_t>(bytes, 4));
  }
  std::array<uint8_t, 32> digest = hasher.final();
  return llvm::toHex(digest, /*LowerCase=*/true);
}
