//===- Json.h - JSON parsing with limits ----------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// llvm::json::parse recurses once per nested array or object, so a file of
// 50,000 '[' overflows the stack. Every JSON input qpal reads (plans,
// sensitivities, latency and distortion tables, the safetensors header,
// config.json) goes through parseJsonBounded, which refuses too deep a
// nesting or too large a text before parsing, with a message that names the
// input and the limit.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_SUPPORT_JSON_H
#define QPAL_SUPPORT_JSON_H

#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cstdint>

namespace qpal {

/// The deepest nesting of arrays and objects qpal's JSON inputs may have.
constexpr unsigned kMaxJsonDepth = 256;
/// The largest JSON text qpal parses (1 GiB).
constexpr uint64_t kMaxJsonBytes = uint64_t(1) << 30;

/// Parses `text` as JSON after checking the limits above; `what` names the
/// input in errors ("the plan 'p.json'").
inline llvm::Expected<llvm::json::Value>
parseJsonBounded(llvm::StringRef text, llvm::StringRef what) {
  if (text.size() > kMaxJsonBytes)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("{0} is {1} bytes of JSON, more than the {2} qpal reads",
                      what, text.size(), kMaxJsonBytes));
  unsigned depth = 0;
  bool inString = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            llvm::formatv("{0} nests arrays and objects deeper than {1} "
                          "levels (at byte {2})",
                          what, kMaxJsonDepth, i));
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (!value)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("{0} is not valid JSON: {1}", what,
                      llvm::toString(value.takeError())));
  return value;
}

} // namespace qpal

#endif // QPAL_SUPPORT_JSON_H
